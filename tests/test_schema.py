"""The published JSON Schema accepts the real guides, refuses what the validator refuses, and the README lists
every key it has."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.guide.convert import plain
from audioguide.guide.markdown import load_markdown
from audioguide.guide.yamlsrc import load_yaml

from conftest import DATA, ESANTE, ROOT


def as_json(tree):
    """What an editor sees: YAML dates are strings of the form YYYY-MM-DD."""
    return json.loads(json.dumps(plain(tree), default=lambda v: v.isoformat() if isinstance(v, dt.date) else v))


@pytest.fixture(scope="module")
def validator():
    out = CliRunner().invoke(cli, ["schema"])
    assert out.exit_code == 0
    schema = json.loads(out.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("path", [ESANTE / "guide.yaml", *sorted(DATA.glob("*/guide.yaml"))], ids=str)
def test_yaml_guides_validate(validator, path):
    errors = [e.message for e in validator.iter_errors(as_json(load_yaml(path)))]
    assert errors == []


@pytest.mark.parametrize("path", sorted((DATA / "md").glob("*/guide.md")), ids=lambda p: p.parent.name)
def test_markdown_guides_validate(validator, path):
    from audioguide.guide import GUIDE_KEYS

    if path.parent.name == "two-level" and GUIDE_KEYS["parts"][1]:
        pytest.skip("this guide model still requires parts (two-level guides come with the `chapters:` key)")
    assert [e.message for e in validator.iter_errors(as_json(load_markdown(path)))] == []


@pytest.mark.parametrize("change, words", [
    (lambda g: g.pop("title"), "'title' is a required property"),
    (lambda g: g.update(titel="x"), "Additional properties"),
    (lambda g: g.update(date="1er septembre"), "does not match"),
    (lambda g: g["parts"][0]["chapters"][0]["pages"][0].update(id="Une Page"), "does not match"),
    (lambda g: g["parts"][0]["chapters"][0]["pages"][0]["blocks"].append({"paragraph": "x"}), "is not valid"),
    (lambda g: g["parts"][0]["chapters"][0]["pages"][0]["blocks"].append({"attention": [{"important": "x"}]}),
     "is not valid"),
    # What an editor flags as it is typed: a block that is a number, empty, two kinds at once, an empty callout.
    (lambda g: g["parts"][0]["chapters"][0]["pages"][0]["blocks"].append(3), "is not valid"),
    (lambda g: g["parts"][0]["chapters"][0]["pages"][0]["blocks"].append({}), "is not valid"),
    (lambda g: g["parts"][0]["chapters"][0]["pages"][0]["blocks"].append({"heading": "x", "p": "y"}), "is not valid"),
    (lambda g: g["parts"][0]["chapters"][0]["pages"][0]["blocks"].append({"attention": []}), "is not valid"),
    (lambda g: g.update(date="2024-02-30"), "is not a 'date'"),
    (lambda g: g.update(lexicon={"ARS": 3}), "is not of type 'string'"),
    (lambda g: g.update(language="en"), "does not match"),
    (lambda g: g.update(intro=3), "is not of type 'object'"),
    (lambda g: g.update(levels={"part": "partie", "x": "y"}), "Additional properties"),
    (lambda g: g.update(levels={"part": ""}), "should be non-empty"),
])
def test_schema_refuses_what_the_validator_refuses(validator, change, words):
    g = as_json(load_yaml(ESANTE / "guide.yaml"))
    change(g)
    errors = [e.message for e in validator.iter_errors(g)]
    assert errors and any(words in m for m in errors), errors


def test_readme_documents_every_key():
    from audioguide.guide.schema import schema

    s = schema()
    keys = set(s["properties"]) | {k for d in ("part", "chapter", "page") for k in s["$defs"][d]["properties"]}
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Writing a guide"):readme.index("## Narration")]
    missing = sorted(k for k in keys if f"`{k}`" not in section)
    assert missing == []


def test_editors_know_which_json_schema_draft_and_what_file_it_describes():
    """VS Code and others pick the draft from `$schema`, and show the title and description on hover."""
    r = CliRunner().invoke(cli, ["schema"])
    schema = json.loads(r.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "audioguide guide" and "guide.yaml" in schema["description"]


def test_a_two_level_guide_chapter_that_is_not_a_mapping_is_flagged(validator):
    g = as_json(load_markdown(DATA / "md" / "two-level" / "guide.md"))
    assert "chapters" in g and validator.is_valid(g)
    g["chapters"].append(3)
    assert any("is not of type 'object'" in e.message for e in validator.iter_errors(g))
