"""YAML loading that remembers where every key and item came from, so errors can name the line."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from audioguide.exceptions import GuideError, Problem
from audioguide.i18n import _

Mark = tuple[int, int]  # 1-based line, column
# A value as read from YAML, before the checks know what it is (text, number, date, YMap, YList…): the checks'
# isinstance tests narrow it.
Raw = Any


# A YAML value is whatever the author wrote (text, number, date, YMap, YList…): the checks find out which.
class YMap(dict[str, Any]):
    """A mapping with the position of itself, of each key and of each value."""

    mark: Mark = (1, 1)
    key_marks: dict[str, Mark]
    value_marks: dict[str, Mark]


class YList(list[Any]):
    """A list with the position of itself and of each item."""

    mark: Mark = (1, 1)
    item_marks: list[Mark]


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


# libyaml's parser gives the same nodes and marks, five times faster (a warm rebuild reads the guide).
if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    pass


def _convert(loader: _Loader, node: yaml.Node, file: str, problems: list[Problem], path: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = YMap()
        out.mark, out.key_marks, out.value_marks = _mark(node), {}, {}
        try:
            loader.flatten_mapping(node)  # `<<: {…}` merge keys
        except yaml.YAMLError as exc:
            problems.append(replace(_yaml_problem(exc, "", file), field=path))
            return out
        for knode, vnode in node.value:
            before = len(problems)
            key = _construct(loader, knode, file, problems, path) if isinstance(knode, yaml.ScalarNode) else None
            if len(problems) > before:
                continue
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(Problem(file, *_mark(knode), path, _("a key must be a plain word"),
                                        _("write keys as simple words followed by a colon, e.g. `title:`")))
                continue
            key = str(key)
            if key in out:
                first = out.key_marks[key][0]
                problems.append(Problem(file, *_mark(knode), _join(path, key),
                                        _("duplicate key (already set on line {line})").format(line=first),
                                        _("keep only one of the two lines")))
                continue
            out.key_marks[key] = _mark(knode)
            out.value_marks[key] = _mark(vnode)
            out[key] = _convert(loader, vnode, file, problems, _join(path, key))
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = YList()
        seq.mark, seq.item_marks = _mark(node), []
        for i, item in enumerate(node.value):
            seq.item_marks.append(_mark(item))
            seq.append(_convert(loader, item, file, problems, f"{path}[{i}]"))
        return seq
    return _construct(loader, node, file, problems, path)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_ALLOWED_CONTROLS = {"\n", "\t", "\r"}
# Far above any real guide; reading and checking a file this size already takes seconds.
MAX_FILE_BYTES = 10_000_000


def check_size(path: Path, display: str) -> None:
    """Refuse a guide file over MAX_FILE_BYTES before reading it (OSError passes through)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise GuideError([Problem(display, None, None, "", _("the file is {size:.0f} MB; a guide is at most {limit} "
                                                             "MB (the e-santé guide is 0.07 MB)").format(
                                      size=size / 1e6, limit=MAX_FILE_BYTES // 1_000_000),
                                  _("check that this is the guide's file; split a huge guide into several"))])


def read_text(path: Path, display: str) -> str:
    """Read a source file as strict UTF-8, reporting encoding problems, BOMs and control characters."""
    problems: list[Problem] = []
    try:
        check_size(path, display)
        raw = path.read_bytes()
    except OSError as exc:
        raise GuideError([Problem(display, None, None, "",
                                  _("cannot read the file ({error})").format(error=exc.strerror),
                                  _("check the path and the file's permissions"))]) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(display, 1, 1, "", _("the file starts with a byte-order mark (BOM)"),
                                _("save the file as UTF-8 without BOM (most editors have this option)")))
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(Problem(display, line, col, "",
                                _("the file is not valid UTF-8 (byte 0x{byte:02x})").format(byte=raw[exc.start]),
                                _("the file was probably saved as Latin-1 or Windows-1252; re-save it as UTF-8")))
        raise GuideError(problems) from exc
    for lineno, row in enumerate(text.split("\n"), 1):
        for col, ch in enumerate(row, 1):
            if ch == "\t" and not row[:col - 1].strip():
                problems.append(Problem(display, lineno, col, "", _("a tab is used for indentation"),
                                        _("YAML indents with spaces only: replace the tab by spaces")))
                break
            if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc" or ch in "\ufffe\uffff":
                problems.append(Problem(display, lineno, col, "",
                                        _("control character U+{code:04X} in the text").format(code=ord(ch)),
                                        _("delete it; it was probably pasted from a PDF or a word processor")))
                break
    if problems:
        raise GuideError(problems)
    return text


# A guide is a few levels deep (parts > chapters > pages > blocks > callout > list); libyaml allows 1,000,
# which overflows Python's recursion limit when the tree is converted.
MAX_DEPTH = 32


def _refuse_aliases_and_depth(text: str, display: str) -> None:
    """Read the YAML events (cheap, nothing is built) and refuse anchors, aliases and absurd nesting.

    A guide never needs `&anchor`/`*alias`; nested aliases expand exponentially (a 562-byte "billion laughs"
    file took 57 s and all the memory), so they are refused before anything is built from them.
    """
    loader = _Loader(text)
    found: list[yaml.Event] = []
    depth = 0
    try:
        while loader.check_event():
            ev: yaml.Event = loader.get_event()  # type: ignore[no-untyped-call]  # unannotated in types-PyYAML
            if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None) is not None:
                found.append(ev)
            elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise GuideError([Problem(display, *_event_mark(ev), "",
                                              _("the YAML is nested more than {limit} levels deep").format(
                                                  limit=MAX_DEPTH),
                                              _("a guide needs only a few levels: check the indentation"))])
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()
    if found:
        ev = found[0]
        anchor = getattr(ev, "anchor", None)  # on alias, scalar, mapping and sequence events only
        what = f"alias *{anchor}" if isinstance(ev, yaml.AliasEvent) else f"anchor &{anchor}"
        more = " " + _("({n} anchors and aliases in the file)").format(n=len(found)) if len(found) > 1 else ""
        raise GuideError([Problem(display, *_event_mark(ev), "",
                                  _("YAML {what}: anchors (&name) and aliases (*name) are not allowed in a "
                                    "guide").format(what=what) + more,
                                  _("write each value out in full where it is used"))])


def _event_mark(ev: yaml.Event) -> tuple[int | None, int | None]:
    """1-based line and column of an event (the parser always gives one)."""
    mark = ev.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def _yaml_problem(exc: yaml.YAMLError, text: str, display: str) -> Problem:
    """Any PyYAML error (reader, scanner, parser, composer, constructor) as a located, plain problem."""
    if isinstance(exc, yaml.reader.ReaderError):
        # libyaml reports a byte offset, pure PyYAML a character offset: find the character itself.
        at = text.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
        col = at - text.rfind("\n", 0, at) if at >= 0 else None
        return Problem(display, line, col, "", _("character U+{code:04X} is not allowed in YAML").format(
                           code=exc.character) if isinstance(exc.character, int)
                       else _("unreadable text: {reason}").format(reason=exc.reason),
                       _("delete it; it was probably pasted from a PDF or a word processor"))
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
    what = ", ".join(x for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x) or str(exc)
    if isinstance(exc, yaml.constructor.ConstructorError):
        return Problem(display, line, col, "", _("YAML value error: {error}").format(error=what),
                       _("remove the `!tag` or `<<:`: a guide holds only plain texts, lists and mappings"))
    fix = _("check the indentation and the colons on this line and the one before")
    if "could not find expected ':'" in what:
        fix = _("a line inside a mapping needs `key: value`; a long text may need quotes or `>`")
    elif "mapping values are not allowed" in what:
        fix = _("a text containing ': ' must be quoted, e.g. {example}").format(example='p: "Attention : ..."')
    elif "expected a single document" in what:
        fix = _("a guide is one YAML document: remove the extra `---` line")
    if isinstance(exc, yaml.MarkedYAMLError):
        from audioguide.guide.hints import explain

        if (hint := explain(text, exc)) is not None:  # the same error, in plain words, where the source shows why
            return Problem(display, hint.line, hint.column, "", _("{message} (YAML syntax error: {error})").format(
                message=hint.message, error=what), hint.fix)
    return Problem(display, line, col, "", _("YAML syntax error: {error}").format(error=what), fix)


def _construct(loader: _Loader, node: yaml.Node, file: str, problems: list[Problem], path: str) -> Any:
    """A scalar's value; a value PyYAML cannot build (2024-02-30, a !tag) is a located problem, not a crash."""
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        line, col = _mark(node)
        if isinstance(exc, yaml.YAMLError):
            problems.append(replace(_yaml_problem(exc, "", file), field=path))
        elif node.tag == "tag:yaml.org,2002:timestamp":
            problems.append(Problem(file, line, col, path,
                                    _("not a real date: {value!r} ({error})").format(value=node.value, error=exc),
                                    _("write an existing date as YYYY-MM-DD, e.g. 2024-02-29")))
        else:
            problems.append(Problem(file, line, col, path,
                                    _("cannot read the value {value!r} ({error})").format(value=node.value, error=exc),
                                    _("put the value in quotes to make it text")))
        return None


def load_yaml(path: Path, display: str | None = None) -> Any:
    """Parse a YAML file into YMap/YList trees; raise GuideError listing every problem."""
    display = display or str(path)
    return parse_yaml(read_text(path, display), display)


def parse_yaml(text: str, display: str) -> Any:
    """Parse YAML text (a file's, or a Markdown guide's front matter) into YMap/YList trees."""
    problems: list[Problem] = []
    try:
        _refuse_aliases_and_depth(text, display)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise GuideError([_yaml_problem(exc, text, display)]) from None
    if node is None:
        raise GuideError([Problem(display, 1, 1, "", _("the file is empty"),
                                  _("start from guides/e-sante/guide.yaml"))])
    data = _convert(loader, node, display, problems, "")
    if problems:
        raise GuideError(problems)
    return data
