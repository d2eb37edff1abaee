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

from audioguide.exceptions import AudioguideError, GuideError, Problem
from audioguide.sources.markdown import CALLOUT_LABELS, fold, slug

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


def read_document(path: Path) -> Document:
    suffix = path.suffix.lower()
    if suffix == ".docx":
        from audioguide.importers.docx import read_docx as reader
    elif suffix in (".html", ".htm", ".xhtml"):
        from audioguide.importers.html import read_html as reader
    elif suffix == ".pdf":
        from audioguide.importers.pdf import read_pdf as reader
    else:
        raise AudioguideError(f"Cannot import {path.name}: unknown format {suffix or '(no extension)'}.",
                              fix="import a Word (.docx), web page (.html) or PDF (.pdf) file; for an old .doc or "
                                  ".odt, save it as .docx first")
    if not path.is_file():
        raise AudioguideError(f"File not found: {path}.", fix="check the path")
    return reader(path)


def draft(doc: Document, guide_id: str) -> tuple[dict, list[str]]:
    """The raw guide tree for a document, and the report lines saying what was guessed."""
    report = list(doc.notes)
    elements = [e for e in doc.elements if e.text.strip() or e.items]
    levels = sorted({e.level for e in elements if e.kind == "heading"})
    title = doc.title
    # A lone top heading that opens the document is its title, not a part.
    if levels and sum(1 for e in elements if e.kind == "heading" and e.level == levels[0]) == 1 \
            and elements[0].kind == "heading" and elements[0].level == levels[0] and len(levels) > 1 \
            and (not title or fold(title) == fold(elements[0].text)):
        title = elements[0].text
        elements = elements[1:]
        levels = levels[1:]
        report.append(f"The first heading, {title!r}, is taken as the guide's title.")
    title = title or guide_id.replace("-", " ").capitalize()
    depth = 3 if len(levels) >= 3 else 2
    role = {lvl: name for lvl, name in zip(levels, ["part", "chapter", "page"][3 - depth:])}
    if len(levels) == 1:  # a leaflet with one level of headings: its sections are pages of one chapter
        role = {levels[0]: "page"}
    names = {"part": "parts (#)", "chapter": "chapters", "page": "pages"}
    if levels:
        report.append("Levels: " + ", ".join(f"heading level {lvl} -> {names[role[lvl]]}" for lvl in role)
                      + (f"; deeper headings stay headings inside a page" if len(levels) > depth else "")
                      + f" ({depth} levels).")
    else:
        report.append("No headings found: everything is one page; add `#` and `##` headings to split it.")
    data: dict = {"title": title}
    if doc.date:
        data["date"] = doc.date
    report.append("publisher: and description: are optional; add them at the top of the draft to name your "
                  "association in the podcast apps and the MP3 tags.")
    report.append(f"date: {doc.date} (from the document)" if doc.date else
                  "No date in the document: none was invented. The feed will use the day the guide file last "
                  "changed; add `date: YYYY-MM-DD` to fix it.")
    parts: list[dict] = []
    chapters: list[dict] = []
    chapter = page = None
    counts: Counter = Counter()
    split: dict[str, int] = {}
    page_size = 0

    def new_chapter(title_: str) -> dict:
        nonlocal chapter, page
        chapter, page = {"id": "", "title": title_, "pages": []}, None
        if depth == 3:
            if not parts:
                parts.append({"id": "", "title": "Introduction", "chapters": []})
                report.append("Text before the first part went into a part named 'Introduction'.")
            parts[-1]["chapters"].append(chapter)
        else:
            chapters.append(chapter)
        counts["chapter"] += 1
        return chapter

    def new_page(title_: str) -> dict:
        nonlocal page
        if chapter is None:
            new_chapter(title if not counts["chapter"] else "Suite")
        page = {"id": "", "title": title_, "blocks": []}
        chapter["pages"].append(page)
        counts["page"] += 1
        return page

    for e in elements:
        r = role.get(e.level) if e.kind == "heading" else None
        if r == "part":
            parts.append({"id": "", "title": e.text, "chapters": []})
            chapter = page = None
            counts["part"] += 1
        elif r == "chapter":
            new_chapter(e.text)
        elif r == "page":
            new_page(e.text)
        else:
            if page is None:
                new_page(chapter["title"] if chapter is not None else "Introduction")
            size = len(e.text) + sum(map(len, e.items))
            if page["blocks"] and page_size + size > SPLIT_AT:  # no heading for a long stretch: cut it
                base = re.sub(r" \(suite \d+\)$", "", page["title"])
                split[base] = split.get(base, 1) + 1
                new_page(f"{base} (suite {split[base]})")
            page_size = size + (page_size if len(page["blocks"]) else 0)
            page["blocks"].append(_block(e, report))
            counts[e.kind] += 1
    if split:
        report.append(f"Long stretches without headings were cut into pages of about {SPLIT_AT} characters "
                      f"({sum(n - 1 for n in split.values())} cuts, pages titled « … (suite N) »): give them "
                      "headings of their own.")
    _prune(parts, chapters, report)
    from audioguide.guide import GUIDE_KEYS

    if depth == 3:
        data["parts"] = parts
    elif "chapters" in GUIDE_KEYS:
        data["chapters"] = chapters
    else:  # a guide model that still requires parts: one part, named like the guide
        data["parts"] = [{"id": "", "title": title, "chapters": chapters}]
        report.append("This version of audioguide needs parts: the chapters were put in one part.")
    _ids(data)
    report.append(f"Found {counts['part']} parts, {counts['chapter']} chapters, {counts['page']} pages, "
                  f"{counts['p']} paragraphs, {counts['list']} lists, {counts['link']} links.")
    return data, report


def _prune(parts: list[dict], chapters: list[dict], report: list[str]) -> None:
    """Headings with nothing under them would be empty pages, which a guide refuses."""
    for chs in [p["chapters"] for p in parts] + [chapters]:
        for ch in chs:
            empty = [pg["title"] for pg in ch["pages"] if not pg["blocks"]]
            ch["pages"] = [pg for pg in ch["pages"] if pg["blocks"]]
            if empty:
                report.append(f"Headings with no text under them were left out: {', '.join(map(repr, empty))}.")
        kept = [ch for ch in chs if ch["pages"]]
        if len(kept) < len(chs):
            report.append("Left out chapters with no text: " + ", ".join(repr(c["title"]) for c in chs
                                                                       if not c["pages"]) + ".")
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
        report.append(f"'{clean(e.text)[:40]}…' became a callout ({kind}).")
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


def import_document(path: Path, out_dir: Path | None = None) -> tuple[Path, list[str]]:
    """Write OUT_DIR/guide.md (default: a folder named after the file) and import-report.txt; return both."""
    from audioguide.files import write_text
    from audioguide.guide import parse_guide
    from audioguide.sources.convert import to_markdown
    from audioguide.sources.markdown import parse_markdown

    guide_id = slug(path.stem, "guide")
    out_dir = out_dir or Path(guide_id)
    target = out_dir / "guide.md"
    if target.exists():
        raise AudioguideError(f"{target} already exists.", fix="choose another folder with --out, or move the old "
                                                                "draft away first")
    doc = read_document(path)
    data, report = draft(doc, guide_id)
    text = to_markdown(data, str(target))
    try:
        parse_guide(parse_markdown(text, str(target)), str(target), guide_id)
    except GuideError as exc:  # a bug of ours: say so rather than leave a draft that does not load
        raise GuideError([*exc.problems, Problem(str(path), None, None, "", "the draft made from this document is "
                                                 "not a valid guide", "please report it with the document")]) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    header = f"Imported from {path.name}. What was guessed:"
    # Through files.write_text: a link planted in the folder is replaced, never written through.
    write_text(out_dir / "import-report.txt", "\n".join([header, *(f"- {r}" for r in report)]) + "\n")
    write_text(target, text)
    return target, report
