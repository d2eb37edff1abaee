"""What every publisher shares (publishers/__init__.py), seen from outside: the files a publisher writes through its
BuildContext, the state it keeps, the last build's manifest it reads, and the order publishers run in."""

import json
import shutil
from pathlib import Path

import pytest

from audioguide.build import build
from audioguide.publishers import BuildContext, run_order

from conftest import DATA, needs_tools, settings_for


def _context(out: Path, state: Path | None = None) -> BuildContext:
    """A publisher's context outside a build (folder=None), as a plug-in's own test makes one."""
    return BuildContext(None, None, out, {}, None, lambda jobs, label: None, state)  # type: ignore[arg-type]


def test_a_publisher_outside_a_build_writes_its_file_in_the_output_folder(tmp_path):
    (tmp_path / "notes").mkdir()
    _context(tmp_path).write("notes/a.txt", b"bonjour\n")
    assert (tmp_path / "notes" / "a.txt").read_bytes() == b"bonjour\n"


def test_the_state_a_publisher_keeps_has_the_same_bytes_whatever_the_order_of_its_keys(tmp_path):
    state = tmp_path / ".build-x.json"
    ctx = _context(tmp_path, state)
    ctx.remember({"b": 1, "a": [2, 3]})
    first = state.read_bytes()
    ctx.remember({"a": [2, 3], "b": 1})
    assert state.read_bytes() == first and first.index(b'"a"') < first.index(b'"b"')
    assert ctx.previous() == {"a": [2, 3], "b": 1}


def test_publishers_waiting_for_each_other_are_named_in_the_message():
    with pytest.raises(ValueError) as err:
        run_order({"zeta": ("alpha",), "alpha": ("zeta",), "free": ()})
    assert str(err.value) == "publishers wait for each other: alpha, zeta"


@needs_tools
def test_a_last_manifest_that_is_not_an_object_is_ignored_and_the_books_are_rebuilt(tmp_path):
    """A manifest.json left as a JSON list (hand-edited, or from another tool) is no reason to stop a build."""
    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    settings = settings_for(tmp_path, engine="silence")
    out = settings.out_dir
    build(guide, settings)
    (out / "manifest.json").write_text("[1, 2]", "utf-8")
    result = build(guide, settings)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["downloads"] == result.manifest["downloads"]
    assert (out / manifest["downloads"]["epub"]["path"]).stat().st_size == manifest["downloads"]["epub"]["bytes"]
    assert (out / manifest["downloads"]["daisy"]["path"]).is_file()
