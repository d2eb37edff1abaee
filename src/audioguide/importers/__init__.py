"""`audioguide import`: a Word, web or PDF document -> a Markdown guide draft and a report of what was guessed.

Each reader turns its format into the same flat list of elements (headings with a level, paragraphs, lists,
links); `draft` then guesses the guide's levels from the headings and writes the draft through the YAML ->
Markdown writer, so a draft is always a valid guide that `check` and `build` accept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audioguide.exceptions import AudioguideError, GuideError, Problem
from audioguide.guide.markdown import CALLOUT_LABELS, fold, slug
from audioguide.i18n import _

# A page is what a listener skips at a time: past this many characters (about five minutes of speech) a
# document without headings is cut, well below the validator's limit.
SPLIT_AT = 6000
# Paragraphs people start with a callout label ("Attention : …") become that callout.
_CALLOUT_START = re.compile(r"^\s*(attention|important|bon à savoir|à noter|a noter|exemple|astuce|conseil)\s*:\s*",
                            re.IGNORECASE)


@dataclass
class Element:
    kind: str
    """heading, p, list or link."""
    text: str = ""
    level: int = 0
    items: list[str] = field(default_factory=list)
    url: str = ""
    numbered: bool = False
    """A list whose items the document numbers: the draft writes each number before its item."""
    heading_like: bool = False
    """A paragraph alone on its line, in bold or larger type: perhaps a heading the author did not style."""


@dataclass
class Document:
    """What a reader found in a document."""

    elements: list[Element]
    title: str = ""
    date: dt.date | None = None
    notes: list[str] = field(default_factory=list)
    """What the reader guessed or dropped, for the report."""


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def shorten(text: str, limit: int) -> str:
    """TEXT cut at a word end to at most LIMIT characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut).rstrip(" ,;:.-") + "…"


def _pieces(text: str, limit: int) -> list[str]:
    """TEXT in pieces of at most LIMIT characters, cut after a sentence if one ends late enough, else a word."""
    out = []
    while len(text) > limit:
        window = text[:limit]
        ends = [m.end() for m in re.finditer(r"[.!?…»)](?= )", window)]
        cut = ends[-1] if ends and ends[-1] > limit // 3 else window.rfind(" ")
        cut = cut if cut > limit // 3 else limit
        out.append(text[:cut].strip())
        text = text[cut:].strip()
    return out + ([text] if text else [])


def _quote(text: str) -> str:
    return f"« {shorten(text, 60)} »"


class _Cleaner:
    """What the guide's validator would refuse, made valid before the draft is written, with a report line
    for each kind of change: an import never writes a draft that `check` rejects."""

    def __init__(self):
        self.bad_chars = 0
        self.numbers: list[str] = []
        self.demoted: list[str] = []
        self.cut: list[str] = []
        self.links: list[str] = []

    def text(self, text: str) -> str:
        from audioguide.guide import BAD_CHARS, LONG_NUMBER

        text, n = BAD_CHARS.subn("", text)
        self.bad_chars += n
        for m in reversed(list(LONG_NUMBER.finditer(text))):
            self.numbers.append(_quote(text[max(0, m.start() - 30):m.start()] + m.group()))
            text = text[:m.start()] + "[…]" + text[m.end():]
        return clean(text)

    def elements(self, elements: list[Element]) -> list[Element]:
        """Each element cleaned, then cut where it is too long for one block."""
        out: list[Element] = []
        for e in elements:
            out += self._split(self._element(e))
        return out

    def _element(self, e: Element) -> Element:
        """E's texts cleaned; an over-long title demoted to a paragraph, a link to no known address kept as text."""
        from audioguide.guide import MAX_TITLE_CHARS

        e.text, e.items = self.text(e.text), [t for t in map(self.text, e.items) if t]
        if e.kind == "heading" and len(e.text) > MAX_TITLE_CHARS:
            self.demoted.append(_quote(e.text))
            e.kind = "p"
        if e.kind != "link":
            return e
        if not _address_ok(e.url):
            self.links.append(e.url[:80])
            return Element("p", text=e.text)
        e.text = shorten(e.text or e.url, MAX_TITLE_CHARS)
        return e

    def _split(self, e: Element) -> list[Element]:
        """A paragraph or list longer than SPLIT_AT as several; an empty element as none."""
        if e.kind == "p" and len(e.text) > SPLIT_AT:
            self.cut.append(_quote(e.text))
            return [Element("p", text=t) for t in _pieces(e.text, SPLIT_AT)]
        if e.kind == "list" and sum(map(len, e.items)) > SPLIT_AT:
            self.cut.append(_quote(e.items[0]))
            items = [piece for item in e.items for piece in _pieces(item, SPLIT_AT)]
            return [Element("list", items=chunk) for chunk in _chunks(items, SPLIT_AT)]
        return [e] if e.text or e.items else []

    def report(self) -> list[str]:
        from audioguide.guide import MAX_NUMBER_DIGITS, MAX_TITLE_CHARS

        lines = []
        if self.bad_chars:
            lines.append(_("{n} invisible character(s) removed (control characters or non-characters): no output "
                           "can carry them.").format(n=self.bad_chars))
        if self.numbers:
            lines.append(_("Numbers of more than {digits} digits, impossible to read aloud, replaced by […]: "
                           "{numbers}. Write in words what they say.").format(
                               digits=MAX_NUMBER_DIGITS, numbers=", ".join(self.numbers)))
        if self.demoted:
            lines.append(_("Headings of more than {chars} characters turned into paragraphs: {titles}. Give these "
                           "sections a short heading.").format(chars=MAX_TITLE_CHARS, titles=", ".join(self.demoted)))
        if self.cut:
            lines.append(_("Paragraphs or lists of more than {chars} characters cut into pieces: {texts}.").format(
                chars=SPLIT_AT, texts=", ".join(self.cut)))
        if self.links:
            lines.append(_("Link addresses that are neither web, nor e-mail, nor phone, kept as text: {links}.")
                         .format(links=", ".join(self.links)))
        return lines


def _address_ok(url: str) -> bool:
    """A web, e-mail or phone address a guide's link can hold."""
    from audioguide.guide import BAD_CHARS, LINK_ADDRESS, TEXT_LIMITS

    return not (not LINK_ADDRESS.match(url) or len(url) > TEXT_LIMITS["url"] or BAD_CHARS.search(url)
                or re.search(r"\s", url))


def _chunks(items: list[str], limit: int) -> list[list[str]]:
    """ITEMS in runs in order, each run's text at most LIMIT long (a longer item alone)."""
    chunks: list[list[str]] = []
    chunk: list[str] = []
    for item in items:
        if chunk and sum(map(len, chunk)) + len(item) > limit:
            chunks.append(chunk)
            chunk = []
        chunk.append(item)
    chunks.append(chunk)
    return chunks


def read_document(path: Path) -> Document:
    suffix = path.suffix.lower()
    if suffix == ".docx":
        from audioguide.importers.docx import read_docx as reader
    elif suffix in (".html", ".htm", ".xhtml"):
        from audioguide.importers.html import read_html as reader
    elif suffix == ".pdf":
        from audioguide.importers.pdf import read_pdf as reader
    else:
        raise AudioguideError(_("Cannot import {name}: the format {suffix} is unknown.").format(
                                  name=path.name, suffix=suffix or _("(no extension)")),
                              fix=_("import a Word file (.docx), a web page (.html) or a PDF (.pdf); an old .doc or "
                                    "an .odt, save it as .docx first"))
    if not path.is_file():
        raise AudioguideError(_("File not found: {path}.").format(path=path),
                              fix=_("check the path and the file name"))
    return reader(path)


@dataclass
class _Draft:
    """What the steps of `draft` share: the document's elements, the guide tree being built and the report."""

    doc: Document
    guide_id: str
    report: list[str]
    cleaner: _Cleaner = field(default_factory=_Cleaner)
    elements: list[Element] = field(default_factory=list)
    title: str = ""
    levels: list[int] = field(default_factory=list)
    depth: int = 2
    role: dict[int, str] = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    parts: list[dict] = field(default_factory=list)
    chapters: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    split: dict[str, int] = field(default_factory=dict)
    """Titles cut into « … (suite N) », with their last N."""


# Bullets and numbers people type by hand at the start of a paragraph.
_TYPED_BULLET = re.compile(r"^[-–—•●▪■◦*]\s+(?=\S)")
_TYPED_NUMBER = re.compile(r"^(\d{1,2})[.)]\s+(?=\S)")


def _typed_lists(d: _Draft) -> None:
    """Paragraphs that start with a typed bullet ("- ", "• ") or number ("1. ", "2) ") are list items; a run
    of them is one list."""
    out: list[Element] = []
    typed = None  # the typed list being read: only typed items continue it
    for e in d.doc.elements:
        m = (_TYPED_BULLET.match(e.text) or _TYPED_NUMBER.match(e.text)) if e.kind == "p" else None
        if not m:
            out.append(e)
            typed = None
            continue
        numbered = m.re is _TYPED_NUMBER
        if typed is not None and typed is out[-1] and typed.numbered == numbered:
            typed.items.append(e.text[m.end():])
        else:
            typed = Element("list", items=[e.text[m.end():]], numbered=numbered)
            out.append(typed)
    d.doc.elements = out


def _numbers(d: _Draft) -> None:
    """A numbered list keeps its numbers in every output: each item is written "1 : …", which the voice says
    "un : …" (a Markdown list's own "1." is not said, and "1. chez…" loses its number in the narrator)."""
    for e in d.doc.elements:
        if e.kind == "list" and e.numbered:
            e.items = [f"{n} : {item}" for n, item in enumerate(e.items, 1)]
            e.numbered = False


def _clean_elements(d: _Draft) -> None:
    d.elements = d.cleaner.elements(d.doc.elements)
    d.levels = sorted({e.level for e in d.elements if e.kind == "heading"})


def _title(d: _Draft) -> None:
    """A lone top heading that opens the document is its title, not a part."""
    from audioguide.guide import MAX_TITLE_CHARS

    els, levels, title = d.elements, d.levels, d.doc.title
    if levels and sum(1 for e in els if e.kind == "heading" and e.level == levels[0]) == 1 \
            and els[0].kind == "heading" and els[0].level == levels[0] and len(levels) > 1 \
            and (not title or fold(title) == fold(els[0].text)):
        title = els[0].text
        d.elements, d.levels = els[1:], levels[1:]
        d.report.append(_("The first heading, “{title}”, is taken as the guide's title.").format(title=title))
    title = d.cleaner.text(title or "") or d.guide_id.replace("-", " ").capitalize()
    if len(title) > MAX_TITLE_CHARS:
        d.report.append(_("The title was cut to {chars} characters: {title}.").format(
            chars=MAX_TITLE_CHARS, title=_quote(title)))
        title = shorten(title, MAX_TITLE_CHARS)
    d.title = title
    d.report += d.cleaner.report()


def _levels(d: _Draft) -> None:
    """Which heading levels are parts, chapters and pages."""
    levels = d.levels
    d.depth = 3 if len(levels) >= 3 else 2
    d.role = {lvl: name for lvl, name in zip(levels, ["part", "chapter", "page"][3 - d.depth:])}
    if len(levels) == 1:  # a leaflet with one level of headings: its sections are pages of one chapter
        d.role = {levels[0]: "page"}
    names = {"part": _("parts (#)"), "chapter": _("topics"), "page": _("pages")}
    if levels:
        d.report.append(_("Levels: ") + ", ".join(_("level {level} headings → {role}").format(
                            level=lvl, role=names[d.role[lvl]]) for lvl in d.role)
                        + (_("; deeper headings stay subheadings in their page") if len(levels) > d.depth else "")
                        + _(" ({depth} levels).").format(depth=d.depth))
    else:
        d.report.append(_("No heading found: the whole document is a single page; add `#` and `##` headings to "
                          "divide it."))


def _front_matter(d: _Draft) -> None:
    from audioguide.guide import MAX_DATE_YEAR

    d.data = {"title": d.title}
    date = d.doc.date
    if date and date.year > MAX_DATE_YEAR:
        d.report.append(_("The document's date, {date}, is left out: audio books cannot carry a date after "
                          "{year}.").format(date=date, year=MAX_DATE_YEAR))
        date = d.doc.date = None
    if date:
        d.data["date"] = date
    d.report.append(_("publisher: and description: are optional: add them at the top of the draft to name your "
                      "association in podcast apps and the MP3s' tags."))
    d.report.append(_("date: {date} (the document's)").format(date=date) if date else
                    _("No date in the document: none was invented. The feed will take the day the guide file was "
                      "last changed; add `date: YYYY-MM-DD` to set it."))


class _Tree:
    """Parts, chapters and pages opened as the headings come, each within the limits a guide accepts."""

    def __init__(self, d: _Draft):
        self.d = d
        # The raw tree being drafted, as guide.yaml will hold it.
        self.chapter: dict[str, Any] | None = None
        self.page: dict[str, Any] | None = None
        self.page_size = 0

    def part(self, title: str) -> None:
        self.d.parts.append({"id": "", "title": title, "chapters": []})
        self.chapter = self.page = None
        self.d.counts["part"] += 1

    def new_chapter(self, title: str) -> dict[str, Any]:
        from audioguide.guide import MAX_TOC_ENTRIES

        d = self.d
        chapter: dict[str, Any] = {"id": "", "title": title, "pages": []}
        self.chapter, self.page = chapter, None
        if d.depth == 3:
            if not d.parts:
                d.parts.append({"id": "", "title": "Introduction", "chapters": []})
                d.report.append(_("The text before the first part went into a part named “Introduction”."))
            if len(d.parts[-1]["chapters"]) == MAX_TOC_ENTRIES:  # an MP3's table of contents lists at most 255
                d.parts.append({"id": "", "title": _continued(d.parts[-1]["title"], d.split), "chapters": []})
            d.parts[-1]["chapters"].append(chapter)
        else:
            d.chapters.append(chapter)
        d.counts["chapter"] += 1
        return chapter

    def new_page(self, title: str) -> dict[str, Any]:
        from audioguide.guide import MAX_TOC_ENTRIES

        d = self.d
        chapter = self.chapter
        if chapter is None:
            chapter = self.new_chapter(d.title if not d.counts["chapter"] else "Suite")
        elif len(chapter["pages"]) == MAX_TOC_ENTRIES:
            chapter = self.new_chapter(_continued(chapter["title"], d.split))
        page: dict[str, Any] = {"id": "", "title": title, "blocks": []}
        self.page = page
        chapter["pages"].append(page)
        d.counts["page"] += 1
        return page

    def block(self, e: Element) -> None:
        page = self.page
        if page is None:
            page = self.new_page(self.chapter["title"] if self.chapter is not None else "Introduction")
        size = len(e.text) + sum(map(len, e.items))
        if page["blocks"] and self.page_size + size > SPLIT_AT:  # no heading for a long stretch: cut it
            page = self.new_page(_continued(page["title"], self.d.split))
        self.page_size = size + (self.page_size if len(page["blocks"]) else 0)
        page["blocks"].append(_block(e, self.d.report))
        self.d.counts[e.kind] += 1


def _tree(d: _Draft) -> None:
    from audioguide.guide import MAX_TOC_ENTRIES

    tree = _Tree(d)
    for e in d.elements:
        role = d.role.get(e.level) if e.kind == "heading" else None
        if role == "part":
            tree.part(e.text)
        elif role == "chapter":
            tree.new_chapter(e.text)
        elif role == "page":
            tree.new_page(e.text)
        else:
            tree.block(e)
    if d.split:
        d.report.append(_("Long passages without a heading were cut into pages of about {chars} characters, and "
                          "topics into {pages} pages at most ({cuts} cut(s), titled “… (suite N)”): give them "
                          "headings.").format(chars=SPLIT_AT, pages=MAX_TOC_ENTRIES,
                                              cuts=sum(n - 1 for n in d.split.values())))


def _callout_labels(d: _Draft) -> None:
    """A callout label alone ("Attention :", a web page's box title) followed by its text is one callout."""
    out: list[Element] = []
    for e in d.elements:
        prev = out[-1] if out else None
        if e.kind == "p" and prev is not None and prev.kind == "p" and _CALLOUT_START.fullmatch(prev.text):
            prev.text = f"{prev.text.strip()} {e.text}"
        else:
            out.append(e)
    d.elements = out


def _repeated_links(d: _Draft) -> None:
    """A link whose text is its own address (« contact@asso.fr », « www.ameli.fr ») right after the paragraph
    that writes it: the paragraph already says it, and every written output links it, so a link block after it
    would make the listener hear it three times (in the paragraph, as the link's text, as its address)."""
    from audioguide.narration.inline import BARE

    out: list[Element] = []
    dropped = []
    for e in d.elements:
        prev = next((o for o in reversed(out) if o.kind != "link"), None)
        if e.kind == "link" and prev is not None and BARE.fullmatch(e.text) \
                and e.text in " ".join([prev.text, *prev.items]):
            dropped.append(_quote(e.text))
            continue
        out.append(e)
    d.elements = out
    if dropped:
        d.report.append(_("Addresses already written in their paragraph, not repeated as a separate link (the "
                          "listener would have heard them three times): {addresses}. The guide's written texts "
                          "(transcripts, books, kiosk) still make them links.").format(addresses=", ".join(dropped)))


def _heading_candidates(d: _Draft) -> None:
    found = [_quote(e.text) for e in d.elements if e.kind == "p" and e.heading_like]
    if found:
        d.report.append(_("Possible headings, kept as paragraphs (alone on their line, in bold or larger): "
                          "{texts}. If they are headings, put ## (or ###) before them in guide.md, or give them a "
                          "“Heading” style in Word before importing again.").format(texts=", ".join(found)))


def _prune_empty(d: _Draft) -> None:
    _prune(d.parts, d.chapters, d.report)


def _toc_limit(d: _Draft) -> None:
    from audioguide.guide import MAX_TOC_ENTRIES

    top = d.parts if d.depth == 3 else d.chapters
    if len(top) > MAX_TOC_ENTRIES:
        level = min(d.role, key=lambda lvl: ["part", "chapter", "page"].index(d.role[lvl]))
        raise AudioguideError(_("The document has {count} level {level} headings: a guide has at most {limit} at "
                                "this level (an MP3's table of contents lists no more).").format(
                                    count=len(top), level=level, limit=MAX_TOC_ENTRIES),
                              fix=_("group these sections under higher-level headings, or cut the document into "
                                    "several guides"))


def _structure(d: _Draft) -> None:
    from audioguide.guide import GUIDE_KEYS

    if d.depth == 3:
        d.data["parts"] = d.parts
    elif "chapters" in GUIDE_KEYS:
        d.data["chapters"] = d.chapters
    else:  # a guide model that still requires parts: one part, named like the guide
        d.data["parts"] = [{"id": "", "title": d.title, "chapters": d.chapters}]
        d.report.append(_("This version of audioguide requires parts: the topics were put in a single part."))
    _ids(d.data)
    c = d.counts
    d.report.append(_("Found: {parts} part(s), {topics} topic(s), {pages} page(s), {paragraphs} paragraph(s), "
                      "{lists} list(s), {links} link(s).").format(parts=c['part'], topics=c['chapter'],
                                                                  pages=c['page'], paragraphs=c['p'],
                                                                  lists=c['list'], links=c['link']))


# What `draft` does, in order: each step reads and fills the shared _Draft.
DRAFT_STEPS = (_typed_lists, _numbers, _clean_elements, _callout_labels, _repeated_links, _heading_candidates,
               _title, _levels, _front_matter, _tree, _prune_empty, _toc_limit, _structure)


def draft(doc: Document, guide_id: str) -> tuple[dict, list[str]]:
    """The raw guide tree for a document, and the report lines saying what was guessed."""
    d = _Draft(doc, guide_id, list(doc.notes))
    for step in DRAFT_STEPS:
        step(d)
    return d.data, d.report


def _continued(title: str, split: dict[str, int]) -> str:
    """'Titre (suite N)', numbered per title, short enough to stay a valid title."""
    from audioguide.guide import MAX_TITLE_CHARS

    base = re.sub(r" \(suite \d+\)$", "", title)
    split[base] = split.get(base, 1) + 1
    return f"{shorten(base, MAX_TITLE_CHARS - 12)} (suite {split[base]})"


def _prune(parts: list[dict], chapters: list[dict], report: list[str]) -> None:
    """Headings with nothing under them would be empty pages, which a guide refuses."""
    for chs in [p["chapters"] for p in parts] + [chapters]:
        for ch in chs:
            empty = [pg["title"] for pg in ch["pages"] if not pg["blocks"]]
            ch["pages"] = [pg for pg in ch["pages"] if pg["blocks"]]
            if empty:
                report.append(_("Headings with no text under them, left out: {titles}.").format(
                    titles=", ".join(f"« {t} »" for t in empty)))
        kept = [ch for ch in chs if ch["pages"]]
        if len(kept) < len(chs):
            report.append(_("Topics without text, left out: {titles}.").format(
                titles=", ".join(f"« {c['title']} »" for c in chs if not c["pages"])))
        chs[:] = kept
    parts[:] = [p for p in parts if p["chapters"]]


def _block(e: Element, report: list[str]) -> dict:
    if e.kind == "list":
        return {"list": e.items}
    if e.kind == "link":
        return {"link": {"url": e.url, "label": e.text}}
    if e.kind == "heading":
        return {"heading": e.text}
    m = _CALLOUT_START.match(e.text)
    if m and e.text[m.end():].strip():
        kind = CALLOUT_LABELS[fold(m.group(1))]
        report.append(_("“{text}…” became a “{kind}” box.").format(text=clean(e.text)[:40],
                                                                   kind=m.group(1).capitalize()))
        return {kind: e.text[m.end():].strip()}
    return {"p": e.text}


def _ids(data: dict) -> None:
    """Ids from titles, as the Markdown loader would give them, numbered when two siblings share a title."""
    def assign(nodes: list[dict], fallback: str, seen: set) -> None:
        for n in nodes:
            base = slug(n["title"], fallback)
            n["id"], k = base, 1
            while n["id"] in seen:
                k += 1
                n["id"] = f"{base[:60]}-{k}"
            seen.add(n["id"])

    chapter_ids: set = set()
    assign(data.get("parts", []), "partie", set())
    for ch in [c for p in data.get("parts", []) for c in p["chapters"]] + data.get("chapters", []):
        assign([ch], "chapitre", chapter_ids)
        assign(ch["pages"], "page", set())


def _check_draft_size(path: Path, size: int) -> None:
    """A draft over the size of a guide file would be refused by `check`: refuse the document now."""
    from audioguide.guide.yamlsrc import MAX_FILE_BYTES

    if size > MAX_FILE_BYTES:
        raise AudioguideError(_("{name} would make a guide of more than {mb} MB of text, the largest a guide can "
                                "be.").format(name=path.name, mb=MAX_FILE_BYTES // 1_000_000),
                              fix=_("cut the document into several, one per guide (the e-santé guide is 0.07 MB)"))


def import_document(path: Path, out_dir: Path | None = None) -> tuple[Path, list[str]]:
    """Write OUT_DIR/guide.md (default: a folder named after the file) and import-report.txt; return both."""
    from audioguide.files import write_text
    from audioguide.guide import parse_guide
    from audioguide.guide.convert import to_markdown
    from audioguide.guide.markdown import parse_markdown

    guide_id = slug(path.stem, "guide")
    out_dir = out_dir or Path(guide_id)
    target = out_dir / "guide.md"
    if target.exists():
        raise AudioguideError(_("{target} already exists.").format(target=target),
                              fix=_("choose another folder with --out, or move the old draft first"))
    from audioguide.guide.load import guide_file

    if guide_file(out_dir).exists():  # check and build would read it, never the draft
        raise AudioguideError(_("The folder {folder} already holds a guide, {name}: check and build would read it "
                                "instead of the draft guide.md.").format(folder=out_dir, name=guide_file(out_dir).name),
                              fix=_("choose another folder with --out"))
    doc = read_document(path)
    _check_draft_size(path, sum(len(e.text) + sum(map(len, e.items)) for e in doc.elements))
    data, report = draft(doc, guide_id)
    if not data.get("parts") and not data.get("chapters"):
        raise AudioguideError(_("{name} holds no text to import.").format(name=path.name),
                              cause=_("the document is empty, or made only of images (a scanned PDF, for example)"),
                              fix=_("open it and check that its text can be selected; a scan must first go through "
                                    "text recognition software (OCR)"))
    text = to_markdown(data, str(target))
    _check_draft_size(path, len(text.encode("utf-8")))
    try:
        parse_guide(parse_markdown(text, str(target)), str(target), guide_id)
    except GuideError as exc:  # a bug of ours: say so rather than leave a draft that does not load
        raise GuideError([*exc.problems, Problem(str(path), None, None, "",
                                                 _("the draft made from this document is not a valid guide"),
                                                 _("this is a bug in audioguide: report it, attaching the "
                                                   "document"))]) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    header = _("Imported from {name}. What was guessed, changed or left out:").format(name=path.name)
    # Through files.write_text: a link planted in the folder is replaced, never written through.
    write_text(out_dir / "import-report.txt", "\n".join([header, *(f"- {r}" for r in report)]) + "\n")
    write_text(target, text)
    return target, report
