"""The guide model (Guide > Part > Chapter > Page > Block) and its loading and validation.

Validation collects every problem with its file, line and field, then raises once (mkdocs-style),
so a volunteer fixes the whole file in one pass instead of one error per run.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from audioguide.exceptions import GuideError, Problem
from audioguide.yamlsrc import YList, YMap

GUIDE_FILE = "guide.yaml"
ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
MAX_PAGE_CHARS = 20_000

CALLOUTS = {
    "attention": "Attention",
    "bon-a-savoir": "Bon à savoir",
    "a-noter": "À noter",
    "exemple": "Exemple",
    "important": "Important",
}
BLOCK_KINDS = ["p", "list", "heading", "link", *CALLOUTS]
# Words people type for a block kind, in French or English: used for "did you mean …?".
BLOCK_ALIASES = {"paragraph": "p", "paragraphe": "p", "paragraf": "p", "para": "p", "text": "p", "texte": "p",
                 "liste": "list", "items": "list", "bullets": "list", "puces": "list", "titre": "heading",
                 "title": "heading", "intertitre": "heading", "lien": "link", "url": "link",
                 "warning": "attention", "avertissement": "attention", "note": "a-noter", "tip": "bon-a-savoir",
                 "example": "exemple"}


@dataclass
class Block:
    """One content block of a page."""

    kind: str
    """p, list, heading, link, or a callout kind (attention, bon-a-savoir…)."""
    text: str = ""
    """Paragraph or heading text; for a link, the label to speak."""
    items: list[str] = field(default_factory=list)
    """List items."""
    url: str = ""
    """Link target."""
    children: list["Block"] = field(default_factory=list)
    """Blocks inside a callout."""


@dataclass
class Page:
    id: str
    title: str
    blocks: list[Block]
    narration: str | None = None
    """Hand-written narration replacing the generated body."""
    line: int | None = None


@dataclass
class Chapter:
    id: str
    title: str
    pages: list[Page]
    description: str = ""
    part: "Part | None" = None
    number: int = 0
    """1-based position among all chapters of the guide (the intro included)."""
    index_in_part: int = 0
    menu_label: str = ""
    """How a phone menu names it after "Pour …" (default: the title, first letter lowered)."""

    @property
    def slug(self) -> str:
        return f"{self.number:02d}-{self.id}"


@dataclass
class Part:
    id: str
    title: str
    chapters: list[Chapter]
    number: int = 0
    menu_label: str = ""


@dataclass
class Guide:
    id: str
    title: str
    publisher: str
    description: str
    date: dt.date
    subtitle: str = ""
    author: str = ""
    language: str = "fr-FR"
    source: str = ""
    rights: str = ""
    version: str = ""
    base_url: str | None = None
    email: str = ""
    link: str = ""
    intro: Chapter | None = None
    parts: list[Part] = field(default_factory=list)
    lexicon: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @property
    def chapters(self) -> list[Chapter]:
        return ([self.intro] if self.intro else []) + [c for p in self.parts for c in p.chapters]

    def chapter(self, chapter_id: str) -> Chapter:
        for c in self.chapters:
            if c.id == chapter_id:
                return c
        raise KeyError(chapter_id)

    def find_page(self, page_ref: str) -> tuple[Chapter, Page]:
        """Find 'chapter/page' or a bare page id (first match)."""
        chap_id, _, page_id = page_ref.rpartition("/")
        for c in self.chapters:
            if chap_id and c.id != chap_id:
                continue
            for p in c.pages:
                if p.id == page_id:
                    return c, p
        raise KeyError(page_ref)


# --- validation -------------------------------------------------------------------------------

TEXT, TEXT_LIST, MAP, LIST, DATE, ANY = "text", "list of texts", "mapping", "list", "date", "any"

GUIDE_KEYS = {
    "id": (TEXT, False), "title": (TEXT, True), "subtitle": (TEXT, False), "publisher": (TEXT, True),
    "author": (TEXT, False), "language": (TEXT, False), "description": (TEXT, True), "source": (TEXT, False),
    "rights": (TEXT, False), "version": (TEXT, False), "date": (DATE, True), "base_url": (TEXT, False),
    "email": (TEXT, False), "link": (TEXT, False),
    "intro": (MAP, False), "parts": (LIST, True), "lexicon": (MAP, False),
}
# menu_label: how a phone menu names the item after "Pour …" ("la télésanté"); defaults to the title.
PART_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "menu_label": (TEXT, False), "chapters": (LIST, True)}
CHAPTER_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "menu_label": (TEXT, False), "description": (TEXT, False),
                "pages": (LIST, True)}
PAGE_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "blocks": (LIST, False), "narration": (TEXT, False)}
LINK_KEYS = {"url": (TEXT, True), "label": (TEXT, True)}


class _Checker:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, mark, field_path: str, message: str, fix: str | None = None) -> None:
        line, col = mark if mark else (None, None)
        self.problems.append(Problem(self.file, line, col, field_path, message, fix))

    def mapping(self, value, mark, path: str, spec: dict) -> YMap | None:
        """Check a mapping against a spec; report unknown keys, missing keys and wrong types."""
        if not isinstance(value, dict):
            self.add(mark, path, f"expected a mapping (key: value lines), found {_kind(value)}")
            return None
        for key in value:
            if key not in spec:
                close = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.6)
                fix = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(spec)}"
                self.add(value.key_marks.get(key), _join(path, key), "unknown key", fix)
        for key, (kind, required) in spec.items():
            if key not in value or value[key] is None:
                if required:
                    self.add(value.mark, _join(path, key), "missing required field",
                             f"add a `{key}:` line to this entry")
                continue
            self.typed(value[key], value.value_marks.get(key), _join(path, key), kind)
        return value

    def typed(self, v, mark, path: str, kind: str) -> bool:
        ok = {
            TEXT: isinstance(v, str), MAP: isinstance(v, dict), LIST: isinstance(v, list),
            DATE: isinstance(v, (dt.date, str)), ANY: True,
            TEXT_LIST: isinstance(v, list) and all(isinstance(x, str) for x in v),
        }[kind]
        if not ok:
            fix = "put the value in quotes to make it text" if kind == TEXT and isinstance(v, (int, float, bool)) \
                else None
            self.add(mark, path, f"wrong type: expected {kind}, found {_kind(v)}", fix)
        elif kind == TEXT and not v.strip():
            self.add(mark, path, "is empty", "write the text, or remove the line")
            return False
        return ok


def _kind(v) -> str:
    if v is None:
        return "nothing"
    return {dict: "a mapping", YMap: "a mapping", list: "a list", YList: "a list", str: "text", int: "a number",
            float: "a number", bool: "true/false"}.get(type(v), type(v).__name__)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_id(ck: _Checker, value, mark, path: str, seen: dict[str, str]) -> str | None:
    if not isinstance(value, str):
        return None
    if not ID_RE.match(value):
        why = "must be lowercase letters, digits and hyphens (it becomes a file name)"
        if "/" in value or "\\" in value or value.startswith(".") or "\0" in value:
            why = "must not contain '/', '\\', '..' or NUL: it would escape the output folder"
        suggestion = re.sub(r"[^a-z0-9]+", "-", _ascii(value).lower()).strip("-")[:64] or "page"
        ck.add(mark, path, f"invalid id {value!r}: {why}", f"use e.g. '{suggestion}'")
        return None
    if value in RESERVED_NAMES:
        ck.add(mark, path, f"id {value!r} is a reserved file name on Windows", f"use e.g. '{value}-1'")
        return None
    if value in seen:
        ck.add(mark, path, f"duplicate id {value!r} (already used at {seen[value]})", "give each one a distinct id")
        return None
    seen[value] = path
    return value


def _ascii(s: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def _blocks(ck: _Checker, raw, mark, path: str, depth: int = 0) -> list[Block]:
    out: list[Block] = []
    if not isinstance(raw, list):
        ck.add(mark, path, f"wrong type: expected a list of blocks, found {_kind(raw)}")
        return out
    for i, item in enumerate(raw):
        ipath, imark = f"{path}[{i}]", raw.item_marks[i] if isinstance(raw, YList) else mark
        if isinstance(item, str):  # a bare string is a paragraph
            if item.strip():
                out.append(Block("p", text=item))
            else:
                ck.add(imark, ipath, "empty paragraph", "write the text, or remove the line")
            continue
        if not isinstance(item, dict) or len(item) != 1:
            ck.add(imark, ipath, "a block is one `kind: content` line",
                   f"kinds: {', '.join(BLOCK_KINDS)}; e.g. `- p: Un paragraphe.`")
            continue
        (kind, value), = item.items()
        kpath, kmark = _join(ipath, kind), item.value_marks.get(kind, imark)
        if kind not in BLOCK_KINDS:
            close = [BLOCK_ALIASES[kind.lower()]] if kind.lower() in BLOCK_ALIASES else \
                difflib.get_close_matches(kind, BLOCK_KINDS, n=1, cutoff=0.5)
            ck.add(item.key_marks.get(kind, imark), kpath, f"unknown block kind '{kind}'",
                   f"did you mean '{close[0]}'?" if close else f"kinds: {', '.join(BLOCK_KINDS)}")
        elif kind in ("p", "heading"):
            if ck.typed(value, kmark, kpath, TEXT):
                out.append(Block(kind, text=value))
        elif kind == "list":
            if ck.typed(value, kmark, kpath, TEXT_LIST):
                items = [x for x in value if x.strip()]
                if not items:
                    ck.add(kmark, kpath, "empty list", "add items, or remove the block")
                else:
                    out.append(Block("list", items=items))
        elif kind == "link":
            if ck.mapping(value, kmark, kpath, LINK_KEYS) is not None and \
                    isinstance(value.get("url"), str) and isinstance(value.get("label"), str):
                if not re.match(r"^(https?://|mailto:|tel:)?[\w.-]+\.\w{2,}", value["url"].strip()):
                    ck.add(value.value_marks.get("url"), _join(kpath, "url"), f"not a web address: {value['url']!r}",
                           "write the full address, e.g. https://www.ameli.fr/")
                else:
                    out.append(Block("link", text=value["label"], url=value["url"].strip()))
        else:  # callout
            if isinstance(value, str):
                if ck.typed(value, kmark, kpath, TEXT):
                    out.append(Block(kind, children=[Block("p", text=value)]))
            elif depth == 0:
                children = _blocks(ck, value, kmark, kpath, depth + 1)
                if children:
                    out.append(Block(kind, children=children))
                elif isinstance(value, list):
                    ck.add(kmark, kpath, "empty callout", "add its text, or remove the block")
            else:
                ck.add(kmark, kpath, "callouts cannot be nested", "move the inner callout out")
    return out


def _page(ck: _Checker, raw, mark, path: str, seen: dict) -> Page | None:
    m = ck.mapping(raw, mark, path, PAGE_KEYS)
    if m is None:
        return None
    pid = _check_id(ck, m.get("id"), m.value_marks.get("id"), _join(path, "id"), seen)
    blocks = _blocks(ck, m["blocks"], m.value_marks.get("blocks"), _join(path, "blocks")) if "blocks" in m else []
    narration = m.get("narration") if isinstance(m.get("narration"), str) else None
    if not blocks and not narration and "blocks" not in m:
        ck.add(m.mark, path, "empty page: it has neither blocks nor narration",
               "add a `blocks:` list, or remove the page")
    size = sum(len(b.text) + sum(map(len, b.items)) + sum(len(c.text) + sum(map(len, c.items)) for c in b.children)
               for b in blocks)
    if size > MAX_PAGE_CHARS:
        ck.add(m.mark, path, f"page is very long ({size} characters, limit {MAX_PAGE_CHARS})",
               "split it into several pages so listeners can navigate it")
    if pid is None or not isinstance(m.get("title"), str):
        return None
    return Page(pid, m["title"].strip(), blocks, narration, m.mark[0])


def _chapter(ck: _Checker, raw, mark, path: str, chapter_ids: dict) -> Chapter | None:
    m = ck.mapping(raw, mark, path, CHAPTER_KEYS)
    if m is None:
        return None
    cid = _check_id(ck, m.get("id"), m.value_marks.get("id"), _join(path, "id"), chapter_ids)
    pages: list[Page] = []
    raw_pages = m.get("pages")
    if isinstance(raw_pages, list):
        if not raw_pages:
            ck.add(m.value_marks.get("pages"), _join(path, "pages"), "empty chapter: it has no pages",
                   "add at least one page, or remove the chapter")
        page_ids: dict[str, str] = {}
        for i, rp in enumerate(raw_pages):
            p = _page(ck, rp, raw_pages.item_marks[i], f"{path}.pages[{i}]", page_ids)
            if p:
                pages.append(p)
    if cid is None or not isinstance(m.get("title"), str):
        return None
    return Chapter(cid, m["title"].strip(), pages, description=m.get("description") or "",
                   menu_label=(m.get("menu_label") or "").strip())


def parse_guide(data, file: str, default_id: str) -> Guide:
    """Validate a loaded YAML tree and build the Guide; raise GuideError listing every problem."""
    ck = _Checker(file)
    top = ck.mapping(data, (1, 1), "", GUIDE_KEYS)
    if top is None:
        raise GuideError(ck.problems)
    chapter_ids: dict[str, str] = {}
    gid = top.get("id", default_id)
    if _check_id(ck, gid, top.value_marks.get("id", (1, 1)), "id", {}) is None and "id" not in top:
        ck.problems[-1:] = [Problem(file, None, None, "id", f"the folder name {gid!r} is not a valid guide id",
                                    "add an `id:` line with lowercase letters, digits and hyphens")]
    language = top.get("language", "fr-FR")
    if isinstance(language, str) and not language.lower().startswith("fr"):
        ck.add(top.value_marks.get("language"), "language", f"language {language!r} is not French",
               "audioguide narrates French guides: use fr-FR")
    date = top.get("date")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            ck.add(top.value_marks.get("date"), "date", f"not a date: {date!r}", "write it as 2024-03-31")
    elif isinstance(date, dt.datetime):
        date = date.date()

    intro = None
    if isinstance(top.get("intro"), dict):
        intro = _chapter(ck, top["intro"], top.value_marks["intro"], "intro", chapter_ids)
    parts: list[Part] = []
    part_ids: dict[str, str] = {}
    raw_parts = top.get("parts")
    if isinstance(raw_parts, list):
        if not raw_parts:
            ck.add(top.value_marks.get("parts"), "parts", "the guide has no parts", "add at least one part")
        for i, rp in enumerate(raw_parts):
            path, mark = f"parts[{i}]", raw_parts.item_marks[i]
            m = ck.mapping(rp, mark, path, PART_KEYS)
            if m is None:
                continue
            pid = _check_id(ck, m.get("id"), m.value_marks.get("id"), _join(path, "id"), part_ids)
            chapters = []
            raw_ch = m.get("chapters")
            if isinstance(raw_ch, list):
                if not raw_ch:
                    ck.add(m.value_marks.get("chapters"), _join(path, "chapters"), "empty part: it has no chapters",
                           "add at least one chapter, or remove the part")
                for j, rc in enumerate(raw_ch):
                    c = _chapter(ck, rc, raw_ch.item_marks[j], f"{path}.chapters[{j}]", chapter_ids)
                    if c:
                        chapters.append(c)
            if pid and isinstance(m.get("title"), str):
                parts.append(Part(pid, m["title"].strip(), chapters, menu_label=(m.get("menu_label") or "").strip()))

    lexicon: dict[str, str] = {}
    if isinstance(top.get("lexicon"), dict):
        lex = top["lexicon"]
        for word, say in lex.items():
            if not isinstance(say, str) or not say.strip():
                ck.add(lex.value_marks.get(word), f"lexicon.{word}", "expected the spoken form as text",
                       f'e.g. {word}: "{word.lower()}"')
            else:
                lexicon[word] = say
        from audioguide.narration.lexicon import lexicon_problems

        for word, message in lexicon_problems(lexicon):
            ck.add(lex.key_marks.get(word), f"lexicon.{word}", message,
                   "make the spoken form plain words that are not themselves lexicon entries")

    if ck.problems:
        raise GuideError(ck.problems)

    guide = Guide(
        id=gid, title=top["title"].strip(), publisher=top["publisher"].strip(),
        description=top["description"].strip(), date=date, subtitle=top.get("subtitle", ""),
        author=top.get("author", ""), language=language, source=top.get("source", ""),
        rights=top.get("rights", ""), version=str(top.get("version", "")), base_url=top.get("base_url"),
        email=top.get("email", ""), link=top.get("link", ""),
        intro=intro, parts=parts, lexicon=lexicon,
    )
    number = 0
    if intro:
        number += 1
        intro.number = number
    for pi, part in enumerate(parts, 1):
        part.number = pi
        for ci, ch in enumerate(part.chapters, 1):
            number += 1
            ch.part, ch.number, ch.index_in_part = part, number, ci
    return guide


def load_guide(path: str | Path) -> Guide:
    """Load a guide from its folder (holding guide.yaml or guide.md) or from the file itself."""
    from audioguide.sources import GUIDE_FILES, guide_file, load_source

    p = Path(path)
    file = guide_file(p) if p.is_dir() else p
    if not file.exists():
        hint = f"a guide folder must contain {' or '.join(GUIDE_FILES)}" if p.is_dir() else "check the path"
        raise GuideError([Problem(str(file), None, None, "", "guide file not found", hint)])
    data = load_source(file, str(file))
    default_id = (file.parent.name if file.name in GUIDE_FILES else file.stem).lower()
    guide = parse_guide(data, str(file), default_id)
    guide.path = file
    return guide
