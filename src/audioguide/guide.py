"""The guide model (Guide > Part > Chapter > Page > Block) and its loading and validation.

Validation collects every problem with its file, line and field, then raises once (mkdocs-style),
so a volunteer fixes the whole file in one pass instead of one error per run.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from audioguide.exceptions import GuideError, Problem
from audioguide.yamlsrc import YList, YMap

GUIDE_FILE = "guide.yaml"
ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
MAX_PAGE_CHARS = 20_000
# Longest text per field. A title is said before every page and printed in very large type on the cover;
# podcast apps cut summaries at 4,000 characters. Other one-line fields default to MAX_TITLE_CHARS.
MAX_TITLE_CHARS = 200
TEXT_LIMITS = {"source": 1_000, "rights": 1_000, "base_url": 2_000, "link": 2_000, "url": 2_000,
               "description": 4_000, "narration": MAX_PAGE_CHARS}
# Never useful in a guide and fatal downstream: XML (feed, VoiceXML) refuses C0/C1 controls and noncharacters,
# the cover's text layout fails on line/paragraph separators, UTF-8 cannot encode lone surrogates.
BAD_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufdd0-\ufdef"
                        + "".join(rf"\U{p:04x}fffe\U{p:04x}ffff" for p in range(17)) + "]")
# A number is read in words ("neuf cent quatre-vingt-dix-neuf novemnonagintilliards…"): past ~600 digits the
# number speller gives up (and Python refuses to convert 4,300), and nobody can follow 100.
MAX_NUMBER_DIGITS = 100
LONG_NUMBER = re.compile(rf"\d(?:[ .\u00a0\u202f]?\d){{{MAX_NUMBER_DIGITS},}}")
# ID3 CTOC frames store their number of entries in one byte: a table of contents lists at most 255 items
# (pages of a chapter; chapters of a part; the intro and parts of the whole-guide file).
MAX_TOC_ENTRIES = 255
# The EPUB and DAISY books are ZIP files, whose dates run from 1980 (earlier ones are written as 1980) to 2107.
MAX_DATE_YEAR = 2107
# A link block's address: a web address (the scheme may be left out), an e-mail or a phone number.
LINK_ADDRESS = re.compile(r"^(?:(?:https?://)?[\w.-]+\.\w{2,}|mailto:[^@\s<>\"']+@[\w.-]+\.\w{2,}"
                          r"|tel:\+?\d[\d.()-]{2,}$)")

CALLOUTS = {
    "attention": "Attention",
    "bon-a-savoir": "Bon à savoir",
    "a-noter": "À noter",
    "exemple": "Exemple",
    "important": "Important",
}
BLOCK_KINDS = ["p", "list", "heading", "link", *CALLOUTS]
# Fields that may hold several lines; every other text is one line (a title, a name, an address).
MULTILINE_FIELDS = {"description", "narration", "p", "list", *CALLOUTS}
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
    """1-based position in its part, or among the top-level chapters of a guide without parts."""
    menu_label: str = ""
    """How a phone menu names it after "Pour …" (default: the title, first letter lowered)."""
    description_line: int | None = None
    """Where the description is written: `check` warns that it is not read aloud."""

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


# Gender of the level names people usually give; another noun is written with its article ("la fiche").
NOUN_GENDER = {"partie": "f", "sujet": "m", "page": "f", "chapitre": "m", "section": "f", "fiche": "f",
               "thème": "m", "module": "m", "leçon": "f", "étape": "f", "rubrique": "f", "question": "f",
               "volet": "m", "livret": "m", "épisode": "m", "séquence": "f", "séance": "f", "unité": "f",
               "article": "m", "point": "m", "dossier": "m", "cahier": "m", "carnet": "m", "titre": "m"}
ARTICLES = {"le": "m", "la": "f", "un": "m", "une": "f"}
_CONTRACTIONS = {("de", "le"): "du", ("de", "les"): "des", ("à", "le"): "au", ("à", "les"): "aux"}


def after(preposition: str, phrase: str) -> str:
    """'de' or 'à' before a noun phrase, contracted as French requires: de + le sujet -> du sujet,
    à + les parties -> aux parties; la and l' stay as they are."""
    first, _, rest = phrase.partition(" ")
    short = _CONTRACTIONS.get((preposition.lower(), first.lower()))
    if short:
        return " ".join(filter(None, (short if preposition[:1].islower() else short.capitalize(), rest)))
    return f"{preposition} {phrase}"


@dataclass(frozen=True)
class Level:
    """The name of one level of a guide, with what French grammar needs to put it in a sentence."""

    noun: str
    feminine: bool

    @property
    def title(self) -> str:
        """Capitalised, to start a sentence: "Sujet"."""
        return self.noun[:1].upper() + self.noun[1:]

    @property
    def plural(self) -> str:
        return self.noun if self.noun[-1:] in "sxz" else self.noun + "s"

    @property
    def _elides(self) -> bool:
        return self.noun[:1].lower() in "aeiouyhàâéèêëîïôöûüœ"

    @property
    def article(self) -> str:
        """"le" or "la", before an adjective ("la suivante") or as a pronoun ("la réécouter")."""
        return "la" if self.feminine else "le"

    @property
    def the(self) -> str:
        """With its definite article: "le sujet", "la page", "l'étape"."""
        return f"l'{self.noun}" if self._elides else f"{self.article} {self.noun}"

    @property
    def of_the(self) -> str:
        """"du sujet", "de la page", "de l'étape"."""
        return after("de", self.the)

    @property
    def to_the(self) -> str:
        """"au sujet", "à la page", "à l'étape"."""
        return after("à", self.the)

    def agree(self, masculine: str, feminine: str) -> str:
        return feminine if self.feminine else masculine


@dataclass(frozen=True)
class Levels:
    """What the guide calls its levels: one name each, used alike by the audio, phone, kiosk and feed."""

    part: Level = Level("partie", True)
    chapter: Level = Level("sujet", False)
    page: Level = Level("page", True)


@dataclass
class Guide:
    id: str
    title: str
    publisher: str
    description: str
    date: dt.date | None
    """The guide's `date:`, else the day its file last changed (see load_guide): never the build's clock."""
    subtitle: str = ""
    author: str = ""
    language: str = "fr-FR"
    source: str = ""
    rights: str = ""
    version: str = ""
    base_url: str | None = None
    email: str = ""
    link: str = ""
    feed_guid: str = ""
    """The podcast's `podcast:guid` (a UUID), fixed once published; empty: derived from the id and publisher."""
    intro: Chapter | None = None
    parts: list[Part] = field(default_factory=list)
    top_chapters: list[Chapter] = field(default_factory=list)
    """A two-level guide's chapters (no parts); empty when the guide has parts."""
    lexicon: dict[str, str] = field(default_factory=dict)
    levels: Levels = field(default_factory=Levels)
    pace: str | None = None
    """The guide's `pace:` (lent, normal…); None leaves it to the build settings."""
    path: Path | None = None

    @property
    def chapters(self) -> list[Chapter]:
        return ([self.intro] if self.intro else []) + [c for p in self.parts for c in p.chapters] + \
            self.top_chapters

    @property
    def named_parts(self) -> list[Part]:
        """The parts a listener hears about and chooses between: none when there is only one."""
        return self.parts if len(self.parts) > 1 else []

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
    # Only the title must be asked; the rest has a default or is derived (README, "Every key").
    "id": (TEXT, False), "title": (TEXT, True), "subtitle": (TEXT, False), "publisher": (TEXT, False),
    "author": (TEXT, False), "language": (TEXT, False), "description": (TEXT, False), "source": (TEXT, False),
    "rights": (TEXT, False), "version": (TEXT, False), "date": (DATE, False), "base_url": (TEXT, False),
    "email": (TEXT, False), "link": (TEXT, False), "feed_guid": (TEXT, False),
    "intro": (MAP, False), "parts": (LIST, False), "chapters": (LIST, False), "lexicon": (MAP, False),
    "levels": (MAP, False), "pace": (TEXT, False),
}
LEVEL_KEYS = {"part": (TEXT, False), "chapter": (TEXT, False), "page": (TEXT, False)}
# menu_label: how a phone menu names the item after "Pour …" ("la télésanté"); defaults to the title.
PART_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "menu_label": (TEXT, False), "chapters": (LIST, True)}
CHAPTER_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "menu_label": (TEXT, False), "description": (TEXT, False),
                "pages": (LIST, True)}
# `blocks` is ANY here because _blocks checks its type with a more telling message: once is enough.
PAGE_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "blocks": (ANY, False), "narration": (TEXT, False)}
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
        elif kind in (TEXT, TEXT_LIST):
            return self.text_content(v if kind == TEXT else "\n".join(v), mark, path)
        return ok

    def text_content(self, v: str, mark, path: str, name: str | None = None) -> bool:
        """Refuse characters that no output can carry, line breaks in one-line fields, and over-long texts."""
        name = name or re.sub(r"\[\d+\]$", "", path.rpartition(".")[2])
        if name == "id":  # ids have their own, stricter rule
            return True
        v = v.strip()
        bad = BAD_CHARS.search(v) or (None if name in MULTILINE_FIELDS else re.search("\n", v))
        if bad:
            ch = bad.group()
            if ch == "\n":
                self.add(mark, path, "a line break in a one-line text",
                         "write it on one line (in YAML, a text after `|` keeps its line breaks)")
            else:
                self.add(mark, path, f"invisible character U+{ord(ch):04X} at character {bad.start() + 1}",
                         "delete it (it was probably pasted from a PDF or a word processor, or written as an "
                         "escape such as \\u0000)")
            return False
        limit = TEXT_LIMITS.get(name, None if name in MULTILINE_FIELDS else MAX_TITLE_CHARS)
        if limit and len(v) > limit:
            why = "split it into several pages so listeners can navigate it" if name == "narration" else \
                "shorten it: listeners hear it in full" if limit == MAX_TITLE_CHARS else "shorten it"
            self.add(mark, path, f"too long ({len(v)} characters, limit {limit})", why)
            return False
        number = LONG_NUMBER.search(v) if name not in ("base_url", "link", "url", "email", "feed_guid") \
            else None
        if number:
            digits = sum(c.isdigit() for c in number.group())
            self.add(mark, path, f"a number of {digits} digits at character {number.start() + 1}: too long to read "
                     f"aloud (limit {MAX_NUMBER_DIGITS})", "shorten it, or write what it means in words")
            return False
        return True


def web_address(url: str, folder: bool = False) -> str:
    """An http(s) address as the feed will print it (non-ASCII host and path encoded); ValueError says why not.

    folder: the base URL every published file is appended to, so no ?query or #fragment, and a final '/'.
    """
    if re.search(r"[\s\"'<>\\`{}|^]", url):
        raise ValueError("must not contain spaces, quotes, <, >, {, }, | or backslashes (write a space as %20)")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise ValueError(f"is not a valid address ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("must start with http:// or https://")
    if not host:
        raise ValueError("has no server name after the //")
    if parts.username is not None:
        raise ValueError("must not hold a user name or password: the feed is public")
    if folder and (parts.query or parts.fragment):
        raise ValueError("must not have a ?query or #fragment: it is the address of a folder")
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    path = quote(parts.path, safe="/%!$&()*+,;=:@-._~")
    if folder and not path.endswith("/"):
        path += "/"
    query = quote(parts.query, safe="/%!$&()*+,;=:@-._~?")
    fragment = quote(parts.fragment, safe="/%!$&()*+,;=:@-._~?")
    return f"{parts.scheme.lower()}://{netloc}{path}" + (f"?{query}" if query else "") + \
        (f"#{fragment}" if fragment else "")


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
            if not item.strip():
                ck.add(imark, ipath, "empty paragraph", "write the text, or remove the line")
            elif ck.text_content(item, imark, ipath, "p"):
                out.append(Block("p", text=item))
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
                if not LINK_ADDRESS.match(value["url"].strip()):
                    ck.add(value.value_marks.get("url"), _join(kpath, "url"), f"not a web address: {value['url']!r}",
                           "write the full address, e.g. https://www.ameli.fr/, mailto:contact@asso.fr or "
                           "tel:+33123456789")
                else:
                    out.append(Block("link", text=value["label"], url=value["url"].strip()))
        else:  # callout
            if depth > 0:  # checked first: a one-line inner callout is nested all the same
                ck.add(kmark, kpath, "callouts cannot be nested", "move the inner callout out")
            elif isinstance(value, str):
                if ck.typed(value, kmark, kpath, TEXT):
                    out.append(Block(kind, children=[Block("p", text=value)]))
            else:
                known = len(ck.problems)
                children = _blocks(ck, value, kmark, kpath, depth + 1)
                if children:
                    out.append(Block(kind, children=children))
                elif isinstance(value, list) and len(ck.problems) == known:  # not empty: its content was refused
                    ck.add(kmark, kpath, "empty callout", "add its text, or remove the block")
    return out


def _toc_limit(ck: _Checker, items: list, mark, path: str, what: str, fix: str) -> None:
    if len(items) > MAX_TOC_ENTRIES:
        ck.add(mark, path, f"too many {what}: {len(items)}, limit {MAX_TOC_ENTRIES} (an MP3's table of contents "
               "cannot list more)", f"{fix} in two; listeners also navigate shorter lists more easily")


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
        _toc_limit(ck, raw_pages, m.key_marks.get("pages"), _join(path, "pages"), "pages", "split the chapter")
        page_ids: dict[str, str] = {}
        for i, rp in enumerate(raw_pages):
            p = _page(ck, rp, raw_pages.item_marks[i], f"{path}.pages[{i}]", page_ids)
            if p:
                pages.append(p)
    if cid is None or not isinstance(m.get("title"), str):
        return None
    return Chapter(cid, m["title"].strip(), pages, description=m.get("description") or "",
                   menu_label=(m.get("menu_label") or "").strip(),
                   description_line=(m.value_marks.get("description") or (None,))[0])


_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]+")


def _feed_guid(ck: _Checker, top) -> str:
    """The guide's podcast guid in canonical form (lowercase, hyphens), or "" when it has none or a bad one."""
    value = top.get("feed_guid")
    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        ck.add(top.value_marks.get("feed_guid"), "feed_guid", f"not a UUID: {value!r}",
               "write the podcast's guid as 8-4-4-4-12 hexadecimal digits, e.g. "
               "917393e3-1b1e-5cef-ace4-edaa54e1f810, or remove the line to derive it from the id and publisher")
        return ""


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
    addresses: dict[str, str] = {}
    for key in ("base_url", "link"):
        value = top.get(key)
        if isinstance(value, str) and value.strip():
            try:
                addresses[key] = web_address(value.strip(), folder=key == "base_url")
            except ValueError as exc:
                ck.add(top.value_marks.get(key), key, f"the address {value!r} {exc}",
                       "write the full public address, e.g. https://asso.example/guide/")
    feed_guid = _feed_guid(ck, top)
    email = top.get("email")
    if isinstance(email, str) and email.strip() and not _EMAIL.fullmatch(email.strip()):
        ck.add(top.value_marks.get("email"), "email", f"not an e-mail address: {email!r}",
               "write one address, e.g. contact@asso.example (podcast apps use it to check who owns the feed)")
    date = top.get("date")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            ck.add(top.value_marks.get("date"), "date", f"not a date: {date!r}", "write it as 2024-03-31")
    elif isinstance(date, dt.datetime):
        date = date.date()
    if isinstance(date, dt.date) and date.year > MAX_DATE_YEAR:
        ck.add(top.value_marks.get("date"), "date", f"the year {date.year} is too far ahead: the EPUB and DAISY "
               f"books cannot carry a date after {MAX_DATE_YEAR}", "check the year (2204 for 2024?)")

    intro = None
    if isinstance(top.get("intro"), dict):
        intro = _chapter(ck, top["intro"], top.value_marks["intro"], "intro", chapter_ids)
    parts = _parts(ck, top, chapter_ids)
    raw_ch = top.get("chapters")
    if isinstance(raw_ch, list):
        _toc_limit(ck, [None] * ("intro" in top) + raw_ch, top.key_marks.get("chapters"), "chapters",
                   "chapters (with the introduction)", "group the chapters into parts, or split the guide")
    top_chapters = [c for j, rc in enumerate(raw_ch) if (c := _chapter(ck, rc, raw_ch.item_marks[j],
                                                                        f"chapters[{j}]", chapter_ids))] \
        if isinstance(raw_ch, list) else []
    levels = _levels(ck, top)
    pace = _pace(ck, top)

    lexicon: dict[str, str] = {}
    if isinstance(top.get("lexicon"), dict):
        lex = top["lexicon"]
        for word, say in lex.items():
            if not isinstance(say, str) or not say.strip():
                ck.add(lex.value_marks.get(word), f"lexicon.{word}", "expected the spoken form as text",
                       f'e.g. {word}: "{word.lower()}"')
            elif ck.text_content(word, lex.key_marks.get(word), f"lexicon.{word}", "lexicon") and \
                    ck.text_content(say, lex.value_marks.get(word), f"lexicon.{word}", "lexicon"):
                lexicon[word] = say
        from audioguide.narration.lexicon import lexicon_problems

        for word, message in lexicon_problems(lexicon):
            ck.add(lex.key_marks.get(word), f"lexicon.{word}", message,
                   "make the spoken form plain words that are not themselves lexicon entries")

    if ck.problems:
        raise GuideError(ck.problems)

    guide = Guide(
        id=gid, title=top["title"].strip(), publisher=(top.get("publisher") or "").strip(),
        description=(top.get("description") or "").strip() or default_description(top["title"].strip(),
                                                                                   top.get("subtitle", "")),
        date=date if isinstance(date, dt.date) else None, subtitle=top.get("subtitle", ""),
        author=top.get("author", ""), language=language, source=top.get("source", ""),
        rights=top.get("rights", ""), version=str(top.get("version", "")), base_url=addresses.get("base_url"),
        email=(top.get("email") or "").strip(), link=addresses.get("link", ""), feed_guid=feed_guid,
        intro=intro, parts=parts, top_chapters=top_chapters, lexicon=lexicon, levels=levels,
        pace=pace,
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
    for ci, ch in enumerate(top_chapters, 1):
        number += 1
        ch.number, ch.index_in_part = number, ci
    return guide


def _parts(ck: _Checker, top: YMap, chapter_ids: dict) -> list[Part]:
    """`parts:` (three levels) or top-level `chapters:` (two levels): exactly one of them."""
    raw_parts = top.get("parts")
    if raw_parts is not None and top.get("chapters") is not None:
        ck.add(top.key_marks.get("chapters"), "chapters", "the guide has both `parts:` and `chapters:`",
               "use `parts:` with chapters inside each part (three levels), or `chapters:` alone (two levels)")
    elif raw_parts is None and top.get("chapters") is None:
        ck.add(top.mark, "chapters", "the guide has no chapters",
               "add a `chapters:` list (two levels), or `parts:` each with its `chapters:` (three levels)")
    elif top.get("chapters") == []:
        ck.add(top.value_marks.get("chapters"), "chapters", "the guide has no chapters", "add at least one chapter")
    parts: list[Part] = []
    part_ids: dict[str, str] = {}
    if not isinstance(raw_parts, list):
        return parts
    if not raw_parts:
        ck.add(top.value_marks.get("parts"), "parts", "the guide has no parts",
               "add at least one part, or list `chapters:` alone for a guide without parts")
    _toc_limit(ck, [None] * ("intro" in top) + raw_parts, top.key_marks.get("parts"), "parts",
               "parts (with the introduction)", "group the parts")
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
            _toc_limit(ck, raw_ch, m.key_marks.get("chapters"), _join(path, "chapters"), "chapters",
                       "split the part")
            for j, rc in enumerate(raw_ch):
                c = _chapter(ck, rc, raw_ch.item_marks[j], f"{path}.chapters[{j}]", chapter_ids)
                if c:
                    chapters.append(c)
        if pid and isinstance(m.get("title"), str):
            parts.append(Part(pid, m["title"].strip(), chapters, menu_label=(m.get("menu_label") or "").strip()))
    return parts


def _pace(ck: _Checker, top: YMap) -> str | None:
    from audioguide.config import PACES

    pace = top.get("pace")
    if not isinstance(pace, str):
        return None
    pace = pace.strip()
    if pace not in PACES:
        close = difflib.get_close_matches(pace.lower(), list(PACES), n=1, cutoff=0.5)
        ck.add(top.value_marks.get("pace"), "pace", f"unknown pace {pace!r}",
               (f"did you mean '{close[0]}'? " if close else "") + f"use one of: {', '.join(PACES)}")
        return None
    return pace


def _levels(ck: _Checker, top: YMap) -> Levels:
    """`levels: {part: partie, chapter: sujet, page: page}`; a noun outside NOUN_GENDER takes its article."""
    raw = top.get("levels")
    if raw is None or ck.mapping(raw, top.value_marks.get("levels"), "levels", LEVEL_KEYS) is None:
        return Levels()
    found = {}
    for key in LEVEL_KEYS:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        words = value.strip().split()
        article = words[0].lower() if len(words) == 2 and words[0].lower() in ARTICLES else None
        noun = (words[1] if article else value.strip()).lower()
        gender = ARTICLES[article] if article else NOUN_GENDER.get(noun)
        if gender is None or len(noun.split()) != 1:
            ck.add(raw.value_marks.get(key), f"levels.{key}", f"cannot tell how to say {value!r} in a sentence",
                   f"write one noun with its article, e.g. `{key}: la fiche` or `{key}: le module`")
            continue
        found[key] = Level(noun, gender == "f")
    return Levels(**found)


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
    if guide.date is None:
        guide.date = file_date(file)
    return guide


def default_description(title: str, subtitle: str = "") -> str:
    """What the feed and tags say of a guide that has no `description:`."""
    return (subtitle.strip().rstrip(".") or title.rstrip(".")) + " : le guide en version audio."


def file_date(file: Path) -> dt.date:
    """The day a guide was last changed: its last commit when it is kept in git, else the file's own date.
    Both stay the same from one build to the next, so the feed's dates do too."""
    import subprocess

    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cs", "--", file.name], cwd=file.parent,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if out and not subprocess.run(["git", "status", "--porcelain", "--", file.name], cwd=file.parent,
                                      capture_output=True, text=True, timeout=10).stdout.strip():
            return dt.date.fromisoformat(out)
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return dt.datetime.fromtimestamp(file.stat().st_mtime, dt.timezone.utc).date()
