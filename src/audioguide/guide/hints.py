"""PyYAML's syntax errors retold for someone who has never seen YAML: what is wrong, on which line, and the
exact change to make. PyYAML only says where it got lost ("did not find expected key"); the source lines
around that place usually show why (a quote closed inside the text, a line indented one space off, a list
item with no key above it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

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
    return "no space" if n == 0 else f"{n} space{'s' if n > 1 else ''}"


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
    what = "an apostrophe" if quote == "'" else "a quotation mark"
    return Hint(i + 1, end + 1, f"the text in quotes ends too early, at column {end + 1}: the text itself contains "
                f"{what} ({quote}), which closes it", f"write the line as:  {line[:start]}{_requote(inner)}")


def explain(text: str, exc: yaml.MarkedYAMLError) -> Hint | None:
    """A plain-words hint for a YAML syntax error, or None when the source gives no better clue."""
    lines = text.split("\n")
    mark = exc.problem_mark
    if mark is None:
        return None
    i = min(mark.line, len(lines) - 1)
    problem, context = exc.problem or "", exc.context or ""
    ctx_line = min(exc.context_mark.line, len(lines) - 1) if exc.context_mark is not None else None

    if "flow" in context and ctx_line is not None:
        opener = "[" if "sequence" in context else "{"
        closer = "]" if opener == "[" else "}"
        return Hint(ctx_line + 1, exc.context_mark.column + 1, f"a « {opener} » starts a list written on one line, "
                    f"and it is not closed by « {closer} » where YAML expected",
                    f"end it with {closer} on the same line, e.g. [premier point, second point]; or remove the "
                    f"{opener} and write one item per line, each starting with « - »")

    if "quoted scalar" in context and ctx_line is not None:
        opened = lines[ctx_line]
        m = _VALUE_START.match(opened)
        quote = m.group(2) if m else '"'
        col = (m.end(2) if m else exc.context_mark.column + 1)
        return Hint(ctx_line + 1, col, f"a quote ({quote}) opens a text here that is never closed",
                    f"add the closing {quote} at the end of the text on line {ctx_line + 1}")
    # Where PyYAML stops, or the line it was reading, may hold the quote that closed too early.
    for j in dict.fromkeys([i, ctx_line if ctx_line is not None else i]):
        if (hint := _quote_closed_early(lines, j)) is not None:
            return hint

    while i > 0 and not _content(lines, i):
        i -= 1
    line = lines[i]
    here = _indent(line)
    prev = _previous(lines, i)
    levels = _levels(lines, i)
    valid = sorted({ind for ind, _ in levels})

    if "mapping values are not allowed" in problem:
        if prev is not None and here > _indent(lines[prev]) and (k := _KEY.match(lines[prev])) and k.group(3):
            key = line.strip().split(":")[0]
            return Hint(i + 1, here + 1, f"this line is indented more than line {prev + 1} ({lines[prev].strip()}), "
                        "so it is read as the rest of that line's text",
                        f"start `{key}:` right under `{k.group(2).strip()}:`, with {_spaces(_indent(lines[prev]))} "
                        "before it")
        value = line.split(": ", 1)[1] if ": " in line.lstrip("- ") else line.strip()
        head = line[: len(line) - len(value)]
        inner = value.strip()
        return Hint(i + 1, mark.column + 1, "the text contains a colon followed by a space (« : »), which YAML reads "
                    "as the start of a new `key: value`", f"put the whole text in quotes:  {head}{_requote(inner)}")

    if line.lstrip().startswith("- ") or line.strip() == "-":
        if prev is not None and (k := _KEY.match(lines[prev])) and k.group(3) and k.group(3)[0] not in "[{|>" \
                and _indent(lines[prev]) + (2 if lines[prev].lstrip().startswith("- ") else 0) == here:
            return Hint(i + 1, here + 1, f"a list item (a line starting with « - ») comes after `{k.group(2).strip()}"
                        f": {k.group(3).strip()[:30]}`, which already has its value, so the list has no key to "
                        "belong to", "add the key the list belongs to on its own line above it (for example "
                        f"`blocks:`), with {_spaces(here)} before it, "
                        "and indent the list under it")

        items = [j for j in range(i - 1, -1, -1) if _content(lines, j) and lines[j].lstrip().startswith("- ")
                 and _indent(lines[j]) <= here + 2]
        if items and _indent(lines[items[0]]) != here and prev is not None and \
                abs(_indent(lines[items[0]]) - here) <= 2:
            want = _indent(lines[items[0]])
            return Hint(i + 1, here + 1, f"this list item starts with {_spaces(here)}, but the item on line "
                        f"{items[0] + 1} starts with {_spaces(want)}",
                        f"put {_spaces(want)} before the dash, like line {items[0] + 1}")

    if valid and here not in valid:
        options = " or ".join(f"{_spaces(ind)} (like `{txt[:40]}`)" for ind, txt in levels if ind in valid[:3] or
                              ind == max(valid))
        return Hint(i + 1, here + 1, f"this line starts with {_spaces(here)}, which matches none of the lines "
                    "above it: YAML uses the number of spaces to know what belongs to what", f"use {options}")
    if "expected '-' indicator" in problem and ctx_line is not None:
        owner = _previous(lines, ctx_line)
        above = f"`{lines[owner].strip()}`, with {_spaces(_indent(lines[owner]))}" if owner is not None else \
            "the key above the list"
        return Hint(i + 1, here + 1, f"this line is at the same indentation as the list that starts on line "
                    f"{ctx_line + 1}, where only items starting with « - » can be",
                    f"if it belongs to the item above, add 2 spaces before it; if not, line it up with {above}")
    return None
