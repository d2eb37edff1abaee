"""The field checks: each reports a Problem (file, line, field, cause, fix) and goes on, so one run lists
every problem of the file (mkdocs-style)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sized

from audioguide.exceptions import Problem
from audioguide.guide.model import BLOCK_KINDS, Block
from audioguide.guide.rules import (
    ANY,
    BAD_CHARS,
    BLOCK_ALIASES,
    DATE,
    ID_RE,
    LINK_ADDRESS,
    LINK_KEYS,
    LIST,
    LONG_NUMBER,
    MAP,
    MAX_NUMBER_DIGITS,
    MAX_TITLE_CHARS,
    MAX_TOC_ENTRIES,
    MULTILINE_FIELDS,
    RESERVED_NAMES,
    TEXT,
    TEXT_LIMITS,
    TEXT_LIST,
)
from audioguide.guide.yamlsrc import Mark, Raw, YList, YMap
from audioguide.i18n import N_, _

# A mapping's keys: each key's kind (rules.TEXT…) and whether it is required.
Spec = Mapping[str, tuple[str, bool]]


class Checker:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, mark: Mark | None, field_path: str, message: str, fix: str | None = None) -> None:
        line, col = mark if mark else (None, None)
        self.problems.append(Problem(self.file, line, col, field_path, message, fix))

    def mapping(self, value: Raw, mark: Mark | None, path: str, spec: Spec) -> YMap | None:
        """Check a mapping against a spec; report unknown keys, missing keys and wrong types."""
        if not isinstance(value, YMap):  # the YAML reader makes every mapping a YMap
            self.add(mark, path, _("expected a mapping (key: value lines), found {kind}").format(kind=_kind(value)))
            return None
        for key in value:
            if key not in spec:
                close = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.6)
                fix = (_("did you mean '{name}'?").format(name=close[0]) if close
                       else _("allowed keys: {keys}").format(keys=", ".join(spec)))
                self.add(value.key_marks.get(key), join(path, key), _("unknown key"), fix)
        for key, (kind, required) in spec.items():
            if key not in value or value[key] is None:
                if required:
                    self.add(value.mark, join(path, key), _("missing required field"),
                             _("add a `{key}:` line to this entry").format(key=key))
                continue
            self.typed(value[key], value.value_marks.get(key), join(path, key), kind)
        return value

    def typed(self, v: Raw, mark: Mark | None, path: str, kind: str) -> bool:
        ok = {
            TEXT: isinstance(v, str), MAP: isinstance(v, dict), LIST: isinstance(v, list),
            DATE: isinstance(v, (dt.date, str)), ANY: True,
            TEXT_LIST: isinstance(v, list) and all(isinstance(x, str) for x in v),
        }[kind]
        if not ok:
            fix = _("put the value in quotes to make it text") if kind == TEXT and isinstance(v, (int, float, bool)) \
                else None
            self.add(mark, path, _("wrong type: expected {expected}, found {kind}").format(
                expected=_(kind), kind=_kind(v)), fix)
        elif kind == TEXT and not v.strip():
            self.add(mark, path, _("is empty"), _("write the text, or remove the line"))
            return False
        elif kind in (TEXT, TEXT_LIST):
            return self.text_content(v if kind == TEXT else "\n".join(v), mark, path)
        return ok

    def text_content(self, v: str, mark: Mark | None, path: str, name: str | None = None) -> bool:
        """Refuse characters that no output can carry, line breaks in one-line fields, and over-long texts."""
        name = name or re.sub(r"\[\d+\]$", "", path.rpartition(".")[2])
        if name == "id":  # ids have their own, stricter rule
            return True
        v = v.strip()
        bad = BAD_CHARS.search(v) or (None if name in MULTILINE_FIELDS else re.search("\n", v))
        if bad:
            ch = bad.group()
            if ch == "\n":
                self.add(mark, path, _("a line break in a one-line text"),
                         _("write it on one line (in YAML, a text after `|` keeps its line breaks)"))
            else:
                self.add(mark, path, _("invisible character U+{code:04X} at character {at}").format(
                             code=ord(ch), at=bad.start() + 1),
                         _("delete it (it was probably pasted from a PDF or a word processor, or written as an "
                           "escape such as \\u0000)"))
            return False
        limit = TEXT_LIMITS.get(name, None if name in MULTILINE_FIELDS else MAX_TITLE_CHARS)
        if limit and len(v) > limit:
            why = _("split it into several pages so listeners can navigate it") if name == "narration" else \
                _("shorten it: listeners hear it in full") if limit == MAX_TITLE_CHARS else _("shorten it")
            self.add(mark, path, _("too long ({n} characters, limit {limit})").format(n=len(v), limit=limit), why)
            return False
        number = LONG_NUMBER.search(v) if name not in ("base_url", "link", "url", "email", "feed_guid") \
            else None
        if number:
            digits = sum(c.isdigit() for c in number.group())
            self.add(mark, path, _("a number of {digits} digits at character {at}: too long to read aloud "
                                   "(limit {limit})").format(
                         digits=digits, at=number.start() + 1, limit=MAX_NUMBER_DIGITS),
                     _("shorten it, or write what it means in words"))
            return False
        return True




def _kind(v: Raw) -> str:
    if v is None:
        return _("nothing")
    kind = {dict: N_("a mapping"), YMap: N_("a mapping"), list: N_("a list"), YList: N_("a list"), str: N_("text"),
            int: N_("a number"), float: N_("a number"), bool: N_("true/false")}.get(type(v))
    return _(kind) if kind else type(v).__name__


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def check_id(ck: Checker, value: Raw, mark: Mark | None, path: str, seen: dict[str, str]) -> str | None:
    if not isinstance(value, str):
        return None
    if not ID_RE.match(value):
        why = _("must be lowercase letters, digits and hyphens (it becomes a file name)")
        if "/" in value or "\\" in value or value.startswith(".") or "\0" in value:
            why = _("must not contain '/', '\\', '..' or NUL: it would escape the output folder")
        suggestion = re.sub(r"[^a-z0-9]+", "-", _ascii(value).lower()).strip("-")[:64] or "page"
        ck.add(mark, path, _("invalid id {id!r}: {why}").format(id=value, why=why),
               _("use e.g. '{id}'").format(id=suggestion))
        return None
    if value in RESERVED_NAMES:
        ck.add(mark, path, _("id {id!r} is a reserved file name on Windows").format(id=value),
               _("use e.g. '{id}'").format(id=f"{value}-1"))
        return None
    if value in seen:
        ck.add(mark, path, _("duplicate id {id!r} (already used at {where})").format(id=value, where=seen[value]),
               _("give each one a distinct id"))
        return None
    seen[value] = path
    return value


def _ascii(s: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def check_blocks(ck: Checker, raw: Raw, mark: Mark | None, path: str, depth: int = 0) -> list[Block]:
    """A page's `blocks:` list (or a callout's), each block checked by the reader of its kind."""
    out: list[Block] = []
    if not isinstance(raw, list):
        ck.add(mark, path, _("wrong type: expected a list of blocks, found {kind}").format(kind=_kind(raw)))
        return out
    for i, item in enumerate(raw):
        ipath, imark = f"{path}[{i}]", raw.item_marks[i] if isinstance(raw, YList) else mark
        block = _bare_paragraph(ck, item, imark, ipath) if isinstance(item, str) else \
            _one_block(ck, item, imark, ipath, depth)
        if block is not None:
            out.append(block)
    return out


def _bare_paragraph(ck: Checker, item: str, mark: Mark | None, path: str) -> Block | None:
    """A bare string is a paragraph."""
    if not item.strip():
        ck.add(mark, path, _("empty paragraph"), _("write the text, or remove the line"))
    elif ck.text_content(item, mark, path, "p"):
        return Block("p", text=item)
    return None


def _one_block(ck: Checker, item: Raw, imark: Mark | None, ipath: str, depth: int) -> Block | None:
    """`- kind: content`, read by its kind's reader."""
    if not isinstance(item, YMap) or len(item) != 1:
        ck.add(imark, ipath, _("a block is one `kind: content` line"),
               _("kinds: {kinds}; e.g. `- p: Un paragraphe.`").format(kinds=", ".join(BLOCK_KINDS)))
        return None
    (kind, value), = item.items()
    kpath, kmark = join(ipath, kind), item.value_marks.get(kind, imark)
    if kind not in BLOCK_KINDS:
        close = [BLOCK_ALIASES[kind.lower()]] if kind.lower() in BLOCK_ALIASES else \
            difflib.get_close_matches(kind, BLOCK_KINDS, n=1, cutoff=0.5)
        ck.add(item.key_marks.get(kind, imark), kpath, _("unknown block kind '{kind}'").format(kind=kind),
               _("did you mean '{name}'?").format(name=close[0]) if close
               else _("kinds: {kinds}").format(kinds=", ".join(BLOCK_KINDS)))
        return None
    reader = _BLOCK_READERS.get(kind, _callout)
    return reader(ck, kind, value, kmark, kpath, depth)


def _text_block(ck: Checker, kind: str, value: Raw, mark: Mark | None, path: str, depth: int) -> Block | None:
    return Block(kind, text=value) if ck.typed(value, mark, path, TEXT) else None


def _list_block(ck: Checker, kind: str, value: Raw, mark: Mark | None, path: str, depth: int) -> Block | None:
    if not ck.typed(value, mark, path, TEXT_LIST):
        return None
    items = [x for x in value if x.strip()]
    if not items:
        ck.add(mark, path, _("empty list"), _("add items, or remove the block"))
        return None
    return Block("list", items=items)


def _link_block(ck: Checker, kind: str, value: Raw, mark: Mark | None, path: str, depth: int) -> Block | None:
    if ck.mapping(value, mark, path, LINK_KEYS) is None or not isinstance(value.get("url"), str) or \
            not isinstance(value.get("label"), str):
        return None
    if not LINK_ADDRESS.match(value["url"].strip()):
        ck.add(value.value_marks.get("url"), join(path, "url"),
               _("not a web address: {url!r}").format(url=value["url"]),
               _("write the full address, e.g. https://www.ameli.fr/, mailto:contact@asso.fr or tel:+33123456789"))
        return None
    return Block("link", text=value["label"], url=value["url"].strip())


def _callout(ck: Checker, kind: str, value: Raw, mark: Mark | None, path: str, depth: int) -> Block | None:
    if depth > 0:  # checked first: a one-line inner callout is nested all the same
        ck.add(mark, path, _("callouts cannot be nested"), _("move the inner callout out"))
        return None
    if isinstance(value, str):
        return Block(kind, children=[Block("p", text=value)]) if ck.typed(value, mark, path, TEXT) else None
    known = len(ck.problems)
    children = check_blocks(ck, value, mark, path, depth + 1)
    if children:
        return Block(kind, children=children)
    if isinstance(value, list) and len(ck.problems) == known:  # not empty: its content was refused
        ck.add(mark, path, _("empty callout"), _("add its text, or remove the block"))
    return None


# A callout kind has no entry: _callout reads it.
_BLOCK_READERS = {"p": _text_block, "heading": _text_block, "list": _list_block, "link": _link_block}


def toc_limit(ck: Checker, items: Sized, mark: Mark | None, path: str, what: str, fix: str) -> None:
    if len(items) > MAX_TOC_ENTRIES:
        ck.add(mark, path, _("too many {what}: {n}, limit {limit} (an MP3's table of contents cannot list "
                             "more)").format(
               what=_(what), n=len(items), limit=MAX_TOC_ENTRIES),
           _("{fix} in two; listeners also navigate shorter lists more easily").format(fix=_(fix)))


