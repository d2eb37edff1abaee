"""PyYAML's syntax errors retold for someone who has never seen YAML: what is wrong, on which line, and the
exact change to make. PyYAML only says where it got lost ("did not find expected key"); the source lines
around that place usually show why (a quote closed inside the text, a line indented one space off, a list
item with no key above it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import yaml

from audioguide.i18n import _, ngettext

_KEY = re.compile(r"^(\s*)(?:-\s+)?([^\s#'\"][^:#]*?):(?:\s+(.*))?$")
_VALUE_START = re.compile(r"^(\s*(?:-\s+)?(?:[^\s#'\"][^:#]*?:\s+)?)(['\"])")


@dataclass
class Hint:
    line: int
    column: int | None
    message: str
    fix: str


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(lines: list[str], i: int) -> bool:
    return bool(lines[i].strip()) and not lines[i].lstrip().startswith("#")


def _previous(lines: list[str], i: int) -> int | None:
    """Index of the nearest line above i that holds something (not blank, not a comment)."""
    for j in range(i - 1, -1, -1):
        if _content(lines, j):
            return j
    return None


def _levels(lines: list[str], i: int) -> list[tuple[int, str]]:
    """The indentations open at line i (nearest first), each with the line that opened it."""
    out: list[tuple[int, str]] = []
    limit = None
    for j in range(i - 1, -1, -1):
        if not _content(lines, j):
            continue
        ind = _indent(lines[j])
        if lines[j].lstrip().startswith("- "):  # an item's keys sit after its dash
            inner = ind + 2 + _indent(lines[j].lstrip()[2:])
            if limit is None or inner < limit:
                out.append((inner, lines[j].strip()))
        if limit is None or ind < limit:
            out.append((ind, lines[j].strip()))
            limit = ind
        if ind == 0:
            break
    seen, unique = set(), []
    for ind, text in out:
        if ind not in seen:
            seen.add(ind)
            unique.append((ind, text))
    return unique


def _spaces(n: int) -> str:
    return _("no space") if n == 0 else ngettext("{n} space", "{n} spaces", n).format(n=n)


def _closing(text: str, start: int, quote: str) -> int | None:
    """Index of the quote that closes the one at `start`, or None."""
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if quote == "'" and text[i + 1: i + 2] == "'":
                i += 2
                continue
            return i
        i += 1
    return None


def _requote(inner: str) -> str:
    if "'" not in inner:
        return f"'{inner}'"
    if '"' not in inner:
        return f'"{inner}"'
    return "'" + inner.replace("'", "''") + "'"


def _quote_closed_early(lines: list[str], i: int) -> Hint | None:
    line = lines[i]
    m = _VALUE_START.match(line)
    if not m:
        return None
    start, quote = m.end(2) - 1, m.group(2)
    end = _closing(line, start, quote)
    if end is None:
        return None
    rest = line[end + 1:].split(" #")[0].strip()
    if not rest:
        return None
    last = line.rstrip().rfind(quote)
    inner = line[start + 1: last] if last > end else line[start + 1:].rstrip()
    what = _("an apostrophe") if quote == "'" else _("a quotation mark")
    return Hint(i + 1, end + 1, _("the text in quotes ends too early, at column {column}: the text itself contains "
                                  "{what} ({quote}), which closes it").format(column=end + 1, what=what, quote=quote),
                _("write the line as:  {line}").format(line=f"{line[:start]}{_requote(inner)}"))


@dataclass
class _Error:
    """A YAML syntax error and the source around it, as the explainers read it."""

    lines: list[str]
    exc: yaml.MarkedYAMLError
    mark: yaml.Mark  # where PyYAML stopped: the error's problem_mark, which `explain` checks is there

    @property
    def problem(self) -> str:
        return self.exc.problem or ""

    @property
    def context(self) -> str:
        return self.exc.context or ""

    @property
    def stop(self) -> int:
        """The line PyYAML stopped on (0-based)."""
        return min(self.mark.line, len(self.lines) - 1)

    @property
    def ctx_line(self) -> int | None:
        """The line of the construct PyYAML was reading (a list, a quoted text), if it says."""
        return min(self.exc.context_mark.line, len(self.lines) - 1) if self.exc.context_mark is not None else None

    @property
    def ctx_column(self) -> int:
        """The column of that construct (0-based; 0 if PyYAML does not say, which `ctx_line` tells first)."""
        return self.exc.context_mark.column if self.exc.context_mark is not None else 0

    @cached_property
    def at(self) -> int:
        """The last line with content at or before the stop: blank lines and comments tell nothing."""
        i = self.stop
        while i > 0 and not _content(self.lines, i):
            i -= 1
        return i

    @property
    def line(self) -> str:
        return self.lines[self.at]

    @property
    def here(self) -> int:
        return _indent(self.line)

    @cached_property
    def prev(self) -> int | None:
        return _previous(self.lines, self.at)

    @cached_property
    def levels(self) -> list[tuple[int, str]]:
        return _levels(self.lines, self.at)


def _unclosed_flow(e: _Error) -> Hint | None:
    if "flow" not in e.context or e.ctx_line is None:
        return None
    opener = "[" if "sequence" in e.context else "{"
    closer = "]" if opener == "[" else "}"
    return Hint(e.ctx_line + 1, e.ctx_column + 1,
                _("a « {opener} » starts a list written on one line, and it is not closed by « {closer} » where YAML "
                  "expected").format(opener=opener, closer=closer),
                _("end it with {closer} on the same line, e.g. [premier point, second point]; or remove the {opener} "
                  "and write one item per line, each starting with « - »").format(opener=opener, closer=closer))


def _unclosed_quote(e: _Error) -> Hint | None:
    if "quoted scalar" not in e.context or e.ctx_line is None:
        return None
    m = _VALUE_START.match(e.lines[e.ctx_line])
    quote = m.group(2) if m else '"'
    col = (m.end(2) if m else e.ctx_column + 1)
    return Hint(e.ctx_line + 1, col, _("a quote ({quote}) opens a text here that is never closed").format(quote=quote),
                _("add the closing {quote} at the end of the text on line {line}").format(quote=quote,
                                                                                          line=e.ctx_line + 1))


def _quote_closed_too_early(e: _Error) -> Hint | None:
    """Where PyYAML stops, or the line it was reading, may hold the quote that closed too early."""
    for j in dict.fromkeys([e.stop, e.ctx_line if e.ctx_line is not None else e.stop]):
        if (hint := _quote_closed_early(e.lines, j)) is not None:
            return hint
    return None


def _colon_in_text(e: _Error) -> Hint | None:
    if "mapping values are not allowed" not in e.problem:
        return None
    lines, i, line, here, prev = e.lines, e.at, e.line, e.here, e.prev
    if prev is not None and here > _indent(lines[prev]) and (k := _KEY.match(lines[prev])) and k.group(3):
        key = line.strip().split(":")[0]
        return Hint(i + 1, here + 1, _("this line is indented more than line {line} ({text}), so it is read as the "
                                       "rest of that line's text").format(line=prev + 1, text=lines[prev].strip()),
                    _("start `{key}:` right under `{above}:`, with {spaces} before it").format(
                        key=key, above=k.group(2).strip(), spaces=_spaces(_indent(lines[prev]))))
    value = line.split(": ", 1)[1] if ": " in line.lstrip("- ") else line.strip()
    head = line[: len(line) - len(value)]
    inner = value.strip()
    return Hint(i + 1, e.mark.column + 1, _("the text contains a colon followed by a space (« : »), "
                                                        "which YAML reads as the start of a new `key: value`"),
                _("put the whole text in quotes:  {line}").format(line=f"{head}{_requote(inner)}"))


def _is_item(e: _Error) -> bool:
    return e.line.lstrip().startswith("- ") or e.line.strip() == "-"


def _list_after_a_value(e: _Error) -> Hint | None:
    lines, prev, here = e.lines, e.prev, e.here
    if not _is_item(e) or prev is None or not (k := _KEY.match(lines[prev])) or not k.group(3) or \
            k.group(3)[0] in "[{|>":
        return None
    if _indent(lines[prev]) + (2 if lines[prev].lstrip().startswith("- ") else 0) != here:
        return None
    return Hint(e.at + 1, here + 1, _("a list item (a line starting with « - ») comes after {line}, which already "
                                      "has its value, so the list has no key to belong to").format(
                                          line=f"`{k.group(2).strip()}: {k.group(3).strip()[:30]}`"),
                _("add the key the list belongs to on its own line above it (for example `blocks:`), with {spaces} "
                  "before it, and indent the list under it").format(spaces=_spaces(here)))


def _item_off_by_a_space(e: _Error) -> Hint | None:
    if not _is_item(e):
        return None
    lines, i, here = e.lines, e.at, e.here
    items = [j for j in range(i - 1, -1, -1) if _content(lines, j) and lines[j].lstrip().startswith("- ")
             and _indent(lines[j]) <= here + 2]
    if not items or _indent(lines[items[0]]) == here or e.prev is None or abs(_indent(lines[items[0]]) - here) > 2:
        return None
    want = _indent(lines[items[0]])
    return Hint(i + 1, here + 1, _("this list item starts with {spaces}, but the item on line {line} starts with "
                                   "{want}").format(spaces=_spaces(here), line=items[0] + 1, want=_spaces(want)),
                _("put {spaces} before the dash, like line {line}").format(spaces=_spaces(want), line=items[0] + 1))


def _indent_matches_nothing(e: _Error) -> Hint | None:
    valid = sorted({ind for ind, _ in e.levels})
    if not valid or e.here in valid:
        return None
    options = _(" or ").join(_("{spaces} (like {line})").format(spaces=_spaces(ind), line=f"`{txt[:40]}`")
                             for ind, txt in e.levels if ind in valid[:3] or ind == max(valid))
    return Hint(e.at + 1, e.here + 1, _("this line starts with {spaces}, which matches none of the lines above it: "
                                        "YAML uses the number of spaces to know what belongs to what").format(
                                            spaces=_spaces(e.here)), _("use {options}").format(options=options))


def _line_beside_a_list(e: _Error) -> Hint | None:
    if "expected '-' indicator" not in e.problem or e.ctx_line is None:
        return None
    owner = _previous(e.lines, e.ctx_line)
    above = _("{line}, with {spaces}").format(line=f"`{e.lines[owner].strip()}`",
                                               spaces=_spaces(_indent(e.lines[owner]))) if owner is not None else \
        _("the key above the list")
    return Hint(e.at + 1, e.here + 1, _("this line is at the same indentation as the list that starts on line {line}, "
                                        "where only items starting with « - » can be").format(line=e.ctx_line + 1),
                _("if it belongs to the item above, add 2 spaces before it; if not, line it up with {above}").format(
                    above=above))


# Tried in this order; the first that recognises the error explains it.
EXPLAINERS = [_unclosed_flow, _unclosed_quote, _quote_closed_too_early, _colon_in_text, _list_after_a_value,
              _item_off_by_a_space, _indent_matches_nothing, _line_beside_a_list]


def explain(text: str, exc: yaml.MarkedYAMLError) -> Hint | None:
    """A plain-words hint for a YAML syntax error, or None when the source gives no better clue."""
    if exc.problem_mark is None:
        return None
    error = _Error(text.split("\n"), exc, exc.problem_mark)
    return next((hint for rule in EXPLAINERS if (hint := rule(error)) is not None), None)
