"""Reading a guide file: each problem in the bytes or the YAML is reported at its line and column, with the fix."""

import pytest

from audioguide.exceptions import GuideError
from audioguide.guide.yamlsrc import load_yaml, parse_yaml

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
HINT_HEAD = ("title: T\nparts:\n  - id: a\n    title: A\n    chapters:\n      - id: c\n        title: C\n"
             "        pages:\n          - id: p\n            title: P\n            blocks:\n")
HINTS = {
    "quote-in-quotes": (HINT_HEAD + '              - p: "Il a dit "bonjour" hier"\n', [
        'guide.yaml:12:30: the text in quotes ends too early, at column 30: the text itself contains a '
        'quotation mark ("), which closes it (YAML syntax error: while parsing a block mapping, did not '
        'find expected key)\n    Fix: write the line as:                - p: \'Il a dit "bonjour" hier\'']),
    "apostrophe-in-quotes": (HINT_HEAD + "              - p: 'L'accès aux soins'\n", [
        'guide.yaml:12:22: the text in quotes ends too early, at column 22: the text itself contains an '
        "apostrophe ('), which closes it (YAML syntax error: while parsing a block mapping, did not "
        'find expected key)\n    Fix: write the line as:                - p: "L\'accès aux soins"']),
    "both-quotes": ("p: \"Il a dit \"oui\" et l'a fait\"\n", [
        'guide.yaml:1:14: the text in quotes ends too early, at column 14: the text itself contains a '
        'quotation mark ("), which closes it (YAML syntax error: while parsing a block mapping, did not '
        'find expected key)\n    Fix: write the line as:  p: \'Il a dit "oui" et l\'\'a fait\'']),
    "apostrophe-and-quotes": ("title: 'L'accès \"direct\"'\n", [
        'guide.yaml:1:10: the text in quotes ends too early, at column 10: the text itself contains an '
        "apostrophe ('), which closes it (YAML syntax error: while parsing a block mapping, did not "
        'find expected key)\n    Fix: write the line as:  title: \'L\'\'accès "direct"\'']),
    "unclosed-quote": (HINT_HEAD + '              - p: "Le texte\n              - p: suite\n', [
        'guide.yaml:12:20: a quote (") opens a text here that is never closed (YAML syntax error: while '
        'scanning a quoted scalar, found unexpected end of stream)\n    Fix: add the closing " at the '
        'end of the text on line 12']),
    "colon": (HINT_HEAD + "              - p: Attention : appelez le 15\n", [
        'guide.yaml:12:30: the text contains a colon followed by a space (« : »), which YAML reads as '
        'the start of a new `key: value` (YAML syntax error: mapping values are not allowed in this '
        "context)\n    Fix: put the whole text in quotes:                - p: 'Attention : appelez le 15'"]),
    "item-one-space-off": (HINT_HEAD + "              - p: a\n             - p: b\n", [
        'guide.yaml:13:14: this list item starts with 13 spaces, but the item on line 12 starts with 14 '
        'spaces (YAML syntax error: while parsing a block mapping, did not find expected key)\n    Fix: '
        'put 14 spaces before the dash, like line 12']),
    "item-one-space-off-at-0": ("title: T\nparts:\n- id: a\n - id: b\n", [
        'guide.yaml:4:2: this list item starts with 1 space, but the item on line 3 starts with no '
        'space (YAML syntax error: while parsing a block mapping, did not find expected key)\n    Fix: '
        'put no space before the dash, like line 3']),
    "key-under-a-value": (HINT_HEAD + "          - id: q\n            title: Q\n              narration: x\n", [
        'guide.yaml:14:15: this line is indented more than line 13 (title: Q), so it is read as the '
        "rest of that line's text (YAML syntax error: mapping values are not allowed in this context)\n  "
        '  Fix: start `narration:` right under `title:`, with 12 spaces before it']),
    "key-under-a-top-value": ("title: T\n  sub: x\n", [
        'guide.yaml:2:3: this line is indented more than line 1 (title: T), so it is read as the rest '
        "of that line's text (YAML syntax error: mapping values are not allowed in this context)\n    "
        'Fix: start `sub:` right under `title:`, with no space before it']),
    "list-after-a-value": (HINT_HEAD + "          - id: q\n            title: Q\n            - p: x\n", [
        'guide.yaml:14:13: a list item (a line starting with « - ») comes after `title: Q`, which '
        'already has its value, so the list has no key to belong to (YAML syntax error: while parsing a '
        'block mapping, did not find expected key)\n    Fix: add the key the list belongs to on its own '
        'line above it (for example `blocks:`), with 12 spaces before it, and indent the list under it']),
    "indent-matches-nothing": (HINT_HEAD + "          - id: q\n           title: Q\n", [
        'guide.yaml:13:12: this line starts with 11 spaces, which matches none of the lines above it: '
        'YAML uses the number of spaces to know what belongs to what (YAML syntax error: while parsing '
        "a block collection, did not find expected '-' indicator)\n    Fix: use 12 spaces (like `- id: "
        'q`) or 4 spaces (like `chapters:`) or 2 spaces (like `- id: a`) or no space (like `parts:`)']),
    "indent-after-comments": ("title: T # c\n\n# note\n  sub: x\n", [
        'guide.yaml:4:3: this line starts with 2 spaces, which matches none of the lines above it: YAML '
        'uses the number of spaces to know what belongs to what (YAML syntax error: while parsing a '
        'block mapping, did not find expected key)\n    Fix: use no space (like `title: T # c`)']),
    "unclosed-bracket": (HINT_HEAD + "              - list: [a, b\n", [
        'guide.yaml:12:23: a « [ » starts a list written on one line, and it is not closed by « ] » '
        'where YAML expected (YAML syntax error: while parsing a flow sequence, did not find expected '
        "',' or ']')\n    Fix: end it with ] on the same line, e.g. [premier point, second point]; or "
        'remove the [ and write one item per line, each starting with « - »']),
    "unclosed-brace": (HINT_HEAD + "              - link: {url: x, label: y\n", [
        'guide.yaml:12:23: a « { » starts a list written on one line, and it is not closed by « } » '
        'where YAML expected (YAML syntax error: while parsing a flow mapping, did not find expected '
        "',' or '}')\n    Fix: end it with } on the same line, e.g. [premier point, second point]; or "
        'remove the { and write one item per line, each starting with « - »']),
    "key-beside-a-list": ("parts:\n  - id: a\n    chapters:\n      - id: c\n      title: C\n", [
        'guide.yaml:5:7: this line is at the same indentation as the list that starts on line 4, where '
        'only items starting with « - » can be (YAML syntax error: while parsing a block collection, '
        "did not find expected '-' indicator)\n    Fix: if it belongs to the item above, add 2 spaces "
        'before it; if not, line it up with `chapters:`, with 4 spaces']),
    "key-beside-a-top-list": ("- p: x\nid: a\n", [
        'guide.yaml:2:1: this line is at the same indentation as the list that starts on line 1, where '
        'only items starting with « - » can be (YAML syntax error: while parsing a block collection, '
        "did not find expected '-' indicator)\n    Fix: if it belongs to the item above, add 2 spaces "
        'before it; if not, line it up with the key above the list']),
}


@pytest.mark.parametrize("case", HINTS)
def test_each_yaml_syntax_error_is_retold_at_the_line_to_change(tmp_path, case):
    """PyYAML's error retold: the line and column to change, what is wrong there and the exact change."""
    text, want = HINTS[case]
    assert problems(tmp_path, text.encode()) == ["".join(want)]


@pytest.mark.french
def test_a_quote_closed_too_early_is_retold_in_french(tmp_path):
    text, _ = HINTS["quote-in-quotes"]
    assert problems(tmp_path, text.encode()) == [
        "guide.yaml:12:30: le texte entre guillemets se termine trop tôt, à la colonne 30 : le texte lui-même "
        "contient un guillemet (\"), qui le ferme (erreur de syntaxe YAML : while parsing a block mapping, did not "
        "find expected key)\n    Solution : écrivez la ligne ainsi :                - p: 'Il a dit \"bonjour\" hier'"]


# Values PyYAML refuses, and more syntax errors. The first two leave out the suggested line: for a text holding
# escapes (\" or '') it is not yet right.
MORE = {
    "escaped-quote-then-closed-early": ('p: "Le \\"code\\" est "1234" ici"\n', [
        'guide.yaml:1:21: the text in quotes ends too early, at column 21: the text itself contains a '
        'quotation mark ("), which closes it (YAML syntax error: while parsing a block mapping, did not '
        'find expected key)']),
    "doubled-apostrophe-then-closed-early": ("title: 'L''accès 'aux' soins'\n", [
        'guide.yaml:1:18: the text in quotes ends too early, at column 18: the text itself contains an '
        "apostrophe ('), which closes it (YAML syntax error: while parsing a block mapping, did not "
        'find expected key)']),
    "item-far-right-of-the-list": ('a:\n  - x\nb: "c"\n      - y\n', [
        'guide.yaml:4:7: this line starts with 6 spaces, which matches none of the lines above it: YAML '
        'uses the number of spaces to know what belongs to what (YAML syntax error: while parsing a '
        'block mapping, did not find expected key)\n    Fix: use no space (like `b: "c"`)']),
    "key-beside-a-list-at-the-end-of-the-file": ('- p: x\nid: a', [
        'guide.yaml:2:1: this line is at the same indentation as the list that starts on line 1, where '
        'only items starting with « - » can be (YAML syntax error: while parsing a block collection, '
        "did not find expected '-' indicator)\n    Fix: if it belongs to the item above, add 2 spaces "
        'before it; if not, line it up with the key above the list']),
    "quote-opened-inside-a-list": ('title: T\nlist: [a, "b c\n', [
        'guide.yaml:2:11: a quote (") opens a text here that is never closed (YAML syntax error: while '
        'scanning a quoted scalar, found unexpected end of stream)\n    Fix: add the closing " at the '
        'end of the text on line 2']),
    "unknown-tag": ('title: T\nsubtitle: !pas-un-tag x\n', [
        'guide.yaml:2:11: subtitle: YAML value error: could not determine a constructor for the tag '
        "'!pas-un-tag'\n    Fix: remove the `!tag` or `<<:`: a guide holds only plain texts, lists and "
        'mappings']),
    "not-a-number": ('title: T\nn: !!int abc\n', [
        "guide.yaml:2:4: n: cannot read the value 'abc' (invalid literal for int() with base 10: "
        "'abc')\n    Fix: put the value in quotes to make it text"]),
    "merge-of-a-number": ('title: T\nsub:\n  <<: 3\n', [
        'guide.yaml:3:7: sub: YAML value error: while constructing a mapping, expected a mapping or '
        'list of mappings for merging, but found scalar\n    Fix: remove the `!tag` or `<<:`: a guide '
        'holds only plain texts, lists and mappings']),
    "impossible-date-as-key": ('[2024-02-30]: b\n', [
        'guide.yaml:1:1: a key must be a plain word\n    Fix: write keys as simple words followed by a '
        'colon, e.g. `title:`']),
    "anchor-and-alias": ('a: &x 1\nb: *x\n', [
        'guide.yaml:1:4: YAML anchor &x: anchors (&name) and aliases (*name) are not allowed in a guide '
        '(2 anchors and aliases in the file)\n    Fix: write each value out in full where it is used']),
    "no-hint": ('title: T\nsub: @x\n', [
        'guide.yaml:2:6: YAML syntax error: while scanning for the next token, found character that '
        'cannot start any token\n    Fix: check the indentation and the colons on this line and the one '
        'before']),
    "two-documents": ('title: T\n---\nb: c\n', [
        'guide.yaml:2:1: YAML syntax error: expected a single document in the stream, but found another '
        'document\n    Fix: a guide is one YAML document: remove the extra `---` line']),
    "too-deep": ("a: " + "[" * 32 + "]" * 32 + "\n", [
        'guide.yaml:1:35: the YAML is nested more than 32 levels deep\n    Fix: a guide needs only a few '
        'levels: check the indentation']),
}


@pytest.mark.parametrize("case", MORE)
def test_each_value_error_is_located_with_its_field_and_fix(tmp_path, case):
    text, want = MORE[case]
    got = problems(tmp_path, text.encode())
    assert [p if "Fix:" in want[-1] else p.split("\n    Fix:")[0] for p in got] == ["".join(want)]


def test_nesting_up_to_the_limit_is_read():
    """32 levels (the top mapping and 31 lists) are read; one more is refused ("too-deep" above)."""
    data = parse_yaml("a: " + "[" * 31 + "]" * 31 + "\n", "guide.yaml")
    want: list = []
    for _ in range(30):
        want = [want]
    assert data == {"a": want}


def test_a_character_yaml_refuses_is_located_in_front_matter_text():
    """parse_yaml also reads a Markdown guide's front matter, which comes as text: the line counts from 1."""
    with pytest.raises(GuideError) as exc:
        parse_yaml("\n\ntitle: \ufffe\n", "guide.md")
    assert [str(p) for p in exc.value.problems] == [
        "guide.md:3:8: character U+FFFE is not allowed in YAML\n"
        "    Fix: delete it; it was probably pasted from a PDF or a word processor"]


def test_a_file_too_big_is_refused_before_reading_it(tmp_path):
    f = tmp_path / "guide.yaml"
    with open(f, "wb") as out:
        out.truncate(10_000_001)  # sparse: nothing is written
    with pytest.raises(GuideError) as exc:
        load_yaml(f, "guide.yaml")
    assert [str(p) for p in exc.value.problems] == [
        "guide.yaml: the file is 10 MB; a guide is at most 10 MB (the e-santé guide is 0.07 MB)\n"
        "    Fix: check that this is the guide's file; split a huge guide into several"]
