"""YAML loading that remembers where every key and item came from, so errors can name the line."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import yaml

from audioguide.exceptions import GuideError, Problem

Mark = tuple[int, int]  # 1-based line, column


class YMap(dict):
    """A mapping with the position of itself, of each key and of each value."""

    mark: Mark = (1, 1)
    key_marks: dict
    value_marks: dict


class YList(list):
    """A list with the position of itself and of each item."""

    mark: Mark = (1, 1)
    item_marks: list


def _mark(node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


# libyaml's parser gives the same nodes and marks, five times faster (a warm rebuild reads the guide).
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _convert(loader: _Loader, node, file: str, problems: list[Problem], path: str):
    if isinstance(node, yaml.MappingNode):
        out = YMap()
        out.mark, out.key_marks, out.value_marks = _mark(node), {}, {}
        loader.flatten_mapping(node)
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True) if isinstance(knode, yaml.ScalarNode) else None
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(Problem(file, *_mark(knode), path, "a key must be a plain word",
                                        "write keys as simple words followed by a colon, e.g. `title:`"))
                continue
            key = str(key)
            if key in out:
                first = out.key_marks[key][0]
                problems.append(Problem(file, *_mark(knode), _join(path, key),
                                        f"duplicate key (already set on line {first})",
                                        "keep only one of the two lines"))
                continue
            out.key_marks[key] = _mark(knode)
            out.value_marks[key] = _mark(vnode)
            out[key] = _convert(loader, vnode, file, problems, _join(path, key))
        return out
    if isinstance(node, yaml.SequenceNode):
        out = YList()
        out.mark, out.item_marks = _mark(node), []
        for i, item in enumerate(node.value):
            out.item_marks.append(_mark(item))
            out.append(_convert(loader, item, file, problems, f"{path}[{i}]"))
        return out
    return loader.construct_object(node, deep=True)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_ALLOWED_CONTROLS = {"\n", "\t", "\r"}


def read_text(path: Path, display: str) -> str:
    """Read a source file as strict UTF-8, reporting encoding problems, BOMs and control characters."""
    problems: list[Problem] = []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GuideError([Problem(display, None, None, "", f"cannot read the file ({exc.strerror})",
                                  "check the path and the file's permissions")]) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(display, 1, 1, "", "the file starts with a byte-order mark (BOM)",
                                "save the file as UTF-8 without BOM (most editors have this option)"))
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(Problem(display, line, col, "", f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                                "the file was probably saved as Latin-1 or Windows-1252; re-save it as UTF-8"))
        raise GuideError(problems)
    for lineno, line in enumerate(text.split("\n"), 1):
        for col, ch in enumerate(line, 1):
            if ch == "\t" and not line[:col - 1].strip():
                problems.append(Problem(display, lineno, col, "", "a tab is used for indentation",
                                        "YAML indents with spaces only: replace the tab by spaces"))
                break
            if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc":
                problems.append(Problem(display, lineno, col, "", f"control character U+{ord(ch):04X} in the text",
                                        "delete it; it was probably pasted from a PDF or a word processor"))
                break
    if problems:
        raise GuideError(problems)
    return text


def load_yaml(path: Path, display: str | None = None):
    """Parse a YAML file into YMap/YList trees; raise GuideError listing every problem."""
    display = display or str(path)
    return parse_yaml(read_text(path, display), display)


def parse_yaml(text: str, display: str):
    """Parse YAML text (a file's, or a Markdown guide's front matter) into YMap/YList trees."""
    loader = _Loader(text)
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = exc.problem or "invalid YAML"
        fix = "check the indentation and the colons on this line and the one before"
        if "could not find expected ':'" in what:
            fix = "a line inside a mapping needs `key: value`; a long text may need quotes or `>`"
        elif "mapping values are not allowed" in what:
            fix = "a text containing ': ' must be quoted, e.g. p: \"Attention : ...\""
        from audioguide.yamlhints import explain

        if (hint := explain(text, exc)) is not None:  # the same error, in plain words, where the source shows why
            line, col, what, fix = hint.line, hint.column, f"{hint.message} (YAML syntax error: {what})", hint.fix
        else:
            what = f"YAML syntax error: {what}"
        raise GuideError([Problem(display, line, col, "", what, fix)]) from None
    finally:
        loader.dispose()
    if node is None:
        raise GuideError([Problem(display, 1, 1, "", "the file is empty", "start from guides/e-sante/guide.yaml")])
    try:
        data = _convert(loader, node, display, problems, "")
    except yaml.YAMLError as exc:  # e.g. a bad timestamp
        raise GuideError([Problem(display, None, None, "", f"YAML value error: {exc}", None)]) from None
    if problems:
        raise GuideError(problems)
    return data
