"""Reading a guide file: each problem in the bytes or the YAML is reported at its line and column, with the fix."""

import pytest

from audioguide.exceptions import GuideError
from audioguide.guide.yamlsrc import load_yaml

CASES = {
    "bom": ("\ufefftitle: A\n".encode(), [
        "guide.yaml:1:1: the file starts with a byte-order mark (BOM)\n"
        "    Fix: save the file as UTF-8 without BOM (most editors have this option)"]),
    "not-utf8": (b"title: A\nsub: caf\xe9 ok\n", [
        "guide.yaml:2:9: the file is not valid UTF-8 (byte 0xe9)\n"
        "    Fix: the file was probably saved as Latin-1 or Windows-1252; re-save it as UTF-8"]),
    "tab": (b"title: A\nparts:\n\t- id: a\n", [
        "guide.yaml:3:1: a tab is used for indentation\n"
        "    Fix: YAML indents with spaces only: replace the tab by spaces"]),
    "control": (b"title: A\x07b\n", [
        "guide.yaml:1:9: control character U+0007 in the text\n"
        "    Fix: delete it; it was probably pasted from a PDF or a word processor"]),
    "empty": (b"  \n# rien\n", ["guide.yaml:1:1: the file is empty\n    Fix: start from guides/e-sante/guide.yaml"]),
    "colon": (b"title: A\np: Attention : oui\n  - x\n", [
        "guide.yaml:2:14: the text contains a colon followed by a space (« : »), which YAML reads as the start of "
        "a new `key: value` (YAML syntax error: mapping values are not allowed in this context)\n"
        "    Fix: put the whole text in quotes:  p: 'Attention : oui'"]),
    "missing-colon": (b"parts:\n  - id: a\n    title\n    x: y\n", None),  # checked below: its own fix
    "syntax": (b"title: [a\n", [
        "guide.yaml:1:8: a « [ » starts a list written on one line, and it is not closed by « ] » where YAML "
        "expected (YAML syntax error: while parsing a flow sequence, did not find expected ',' or ']')\n"
        "    Fix: end it with ] on the same line, e.g. [premier point, second point]; or remove the [ and write one "
        "item per line, each starting with « - »"]),
    "duplicate-key": (b"title: A\nid: x\ntitle: B\n", [
        "guide.yaml:3:1: title: duplicate key (already set on line 1)\n    Fix: keep only one of the two lines"]),
    "nested-duplicate": (b"parts:\n  - id: a\n    id: b\n", [
        "guide.yaml:3:5: parts[0].id: duplicate key (already set on line 2)\n    Fix: keep only one of the two lines"]),
    "key-not-a-word": (b"title: A\n[a]: b\n", [
        "guide.yaml:2:1: a key must be a plain word\n"
        "    Fix: write keys as simple words followed by a colon, e.g. `title:`"]),
}


def problems(tmp_path, data: bytes) -> list[str]:
    f = tmp_path / "guide.yaml"
    f.write_bytes(data)
    with pytest.raises(GuideError) as exc:
        load_yaml(f, "guide.yaml")
    return [str(p) for p in exc.value.problems]


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][1]])
def test_each_file_problem_is_reported_exactly(tmp_path, case):
    data, want = CASES[case]
    assert problems(tmp_path, data) == want


def test_a_missing_colon_says_so(tmp_path):
    (p,) = problems(tmp_path, CASES["missing-colon"][0])
    assert p.startswith("guide.yaml:4:5: YAML syntax error: while scanning a simple key, could not find expected ':'")
    assert p.endswith("Fix: a line inside a mapping needs `key: value`; a long text may need quotes or `>`")


def test_an_unreadable_file_says_why(tmp_path):
    with pytest.raises(GuideError) as exc:
        load_yaml(tmp_path, "guide.yaml")  # a folder where the file should be
    (p,) = exc.value.problems
    assert (p.file, p.line, p.column, p.field) == ("guide.yaml", None, None, "")
    assert p.message == "cannot read the file (Is a directory)"


def test_values_keep_their_types_and_places(tmp_path):
    f = tmp_path / "guide.yaml"
    f.write_bytes("title: Été\nn: 3\nparts:\n  - id: a\n    items: [x, 'y']\n".encode())
    data = load_yaml(f)
    assert data == {"title": "Été", "n": 3, "parts": [{"id": "a", "items": ["x", "y"]}]}
    assert data.value_marks["n"] == (2, 4) and data.key_marks["parts"] == (3, 1)
    assert data["parts"].item_marks[0] == (4, 5) and data["parts"][0].value_marks["items"] == (5, 12)


def test_an_impossible_date_is_a_problem_not_a_traceback(tmp_path):
    (p,) = problems(tmp_path, b"date: 2024-02-30\n")
    assert "2024-02-30" in p or "date" in p
