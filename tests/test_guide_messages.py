"""What a volunteer is told when the guide file is not where or what audioguide expects: one message in
French, with the fix, never a list of consequences of the one mistake."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.exceptions import GuideError
from audioguide.guide import load_guide

from conftest import DATA

MD_GUIDE = "---\ntitle: Essai\npublisher: Asso\n---\n# Partie un\n### Page un\nTexte.\n### Page deux\nTexte.\n"


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.french
def test_a_skipped_heading_level_is_one_message(tmp_path):
    (tmp_path / "guide.md").write_text(MD_GUIDE, encoding="utf-8")
    with pytest.raises(GuideError) as caught:
        load_guide(tmp_path)
    [problem] = caught.value.problems
    assert (problem.line, problem.message) == (6, "le niveau ## manque entre # et ###")
    assert "ajoutez un titre ## (un sujet) au-dessus de « ### Page un »" in problem.fix


@pytest.mark.french
def test_a_skipped_level_in_a_two_level_guide(tmp_path):
    (tmp_path / "guide.md").write_text("---\ntitle: Essai\npublisher: Asso\ndepth: 2\n---\n# Sujet\nUn mot.\n"
                                       "## Page\nTexte.\n# Autre\n### Trop bas\nTexte.\n", encoding="utf-8")
    with pytest.raises(GuideError) as caught:
        load_guide(tmp_path)
    assert [p.message for p in caught.value.problems] == ["le niveau ## manque entre # et ###"]


@pytest.mark.parametrize("command", ["check", "build"])
@pytest.mark.parametrize("name, said", [
    ("notice.docx", "c'est un fichier Word : utilisez audioguide import"),
    ("notice.pdf", "c'est un fichier PDF : utilisez audioguide import"),
    ("notice.html", "c'est une page web : utilisez audioguide import"),
    ("notice.doc", "c'est un ancien fichier Word (.doc), que audioguide import ne lit pas"),
])
@pytest.mark.french
def test_a_document_given_as_the_guide_says_to_import_it(tmp_path, command, name, said):
    doc = tmp_path / name
    doc.write_bytes(b"PK\x03\x04 not a guide" if name.endswith("x") else b"<html><body>Un guide</body></html>")
    result = run(command, doc, *(["--out", tmp_path / "out"] if command == "build" else []))
    assert result.exit_code != 0
    assert said in result.output
    assert "audioguide import" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_check_dot_names_the_folder(tmp_path, monkeypatch):
    folder = tmp_path / "mon-guide"
    folder.mkdir()
    text = (DATA / "mini" / "guide.yaml").read_text(encoding="utf-8").replace("id: mini\n", "")
    (folder / "guide.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(folder)
    assert load_guide(".").id == "mon-guide"
    result = run("check", ".")
    assert result.exit_code == 0, result.output
    (folder / "guide.yaml").write_text(text, encoding="utf-8")
    bad = tmp_path / "Mon Guide"
    folder.rename(bad)
    monkeypatch.chdir(bad)
    result = run("check", ".")
    assert "the folder name 'mon guide'" in result.output and "''" not in result.output


@pytest.mark.french
@pytest.mark.parametrize("name, right", [("guide.md.txt", "guide.md"), ("Guide.md", "guide.md"),
                                         ("guide.yml", "guide.yaml"), ("GUIDE.YAML.txt", "guide.yaml")])
def test_a_misnamed_guide_file_is_recognised(tmp_path, name, right):
    source = DATA / "md" / "grippe" / "guide.md" if right == "guide.md" else DATA / "mini" / "guide.yaml"
    folder = tmp_path / "grippe"
    folder.mkdir()
    shutil.copy(source, folder / name)
    result = run("check", folder)
    assert result.exit_code != 0
    assert f"le fichier du guide s'appelle « {name} » : renommez-le « {right} »" in result.output
    (folder / name).rename(folder / right)
    assert run("check", folder).exit_code == 0


@pytest.mark.parametrize("after, field, line", [
    ("    title: Santé\n", "parts[0].menu_label", 22),
    ("        title: Le DMP\n", "parts[0].chapters[0].menu_label", 25),
    ("        title: Le DMP\n", "parts[0].chapters[0].description", 25),
])
@pytest.mark.french
def test_a_number_where_a_label_or_description_is_expected_is_refused_at_its_line(tmp_path, after, field, line):
    """`menu_label: 2024` (YAML reads a number) crashed with a traceback; it is one message, at its line."""
    text = (DATA / "mini" / "guide.yaml").read_text(encoding="utf-8")
    key = field.rsplit(".", 1)[1]
    assert after in text
    (tmp_path / "guide.yaml").write_text(text.replace(after, f"{after}{after[:-len(after.lstrip())]}{key}: 2024\n", 1),
                                         encoding="utf-8")
    result = run("check", tmp_path)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert f"guide.yaml:{line}:" in result.output and f"{field}: mauvais type : attendu du texte, trouvé un nombre" \
        in result.output, result.output
    assert "mettez la valeur entre guillemets" in result.output
