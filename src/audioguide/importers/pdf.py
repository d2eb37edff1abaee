"""PDF documents, read with pdfplumber: headings from the bookmarks, else from font sizes; running headers,
page numbers and navigation links ("Précédent", "Suivant", "retour au menu"…) are removed."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from audioguide.exceptions import AudioguideError
from audioguide.importers import Document, Element, clean
from audioguide.sources.markdown import fold

# Interactive PDFs (the e-santé export among them) repeat these buttons on every page.
NAVIGATION = {"precedent", "suivant", "page precedente", "page suivante", "retour au menu", "retour au sommaire",
              "en savoir plus", "sommaire", "menu", "haut de page", "retour", "accueil", "previous", "next"}
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|sur|of)\s*\d{1,4})?$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[•●▪■◦–\-*]|\d{1,2}[.)])\s+")


def read_pdf(path: Path) -> Document:
    try:
        import pdfplumber
    except ImportError:
        raise AudioguideError("Importing PDF files needs pdfplumber.", fix="pip install 'audioguide[import]'") from None
    try:
        pdf = pdfplumber.open(str(path))
    except Exception as exc:  # pdfminer raises many kinds for a damaged or encrypted file
        raise AudioguideError(f"Cannot read {path.name} as a PDF ({exc.__class__.__name__}).",
                              cause="the file is damaged or password-protected",
                              fix="open it in a PDF reader and print it again to a new PDF") from None
    with pdf:
        pages = [[_line(ln) for ln in page.extract_text_lines(return_chars=True) if clean(ln["text"])]
                 for page in pdf.pages]
        outline = _outline(pdf)
        meta = pdf.metadata or {}
    notes: list[str] = []
    pages, removed = _drop_furniture(pages)
    notes += removed
    lines = [ln for page in pages for ln in page]
    if outline:
        notes.append(f"Headings come from the PDF's {len(outline)} bookmarks.")
        headings = {fold(t): lvl for t, lvl in outline}
        level_of = lambda ln: headings.get(fold(ln["text"]))  # noqa: E731
    else:
        level_of = _font_levels(lines, notes)
    elements: list[Element] = []
    prev = None
    for ln in lines:
        level = level_of(ln)
        if level:
            if elements and elements[-1].kind == "heading" and elements[-1].level == level and prev and \
                    _close(prev, ln) and not outline:  # a title on two lines
                elements[-1].text += " " + ln["text"]
            else:
                elements.append(Element("heading", text=ln["text"], level=level))
        elif _BULLET.match(ln["text"]):
            item = _BULLET.sub("", ln["text"])
            # Bullets are often spaced apart: any bullet right after a list item continues the list.
            if elements and elements[-1].kind == "list" and prev and abs(prev["size"] - ln["size"]) < 0.5:
                elements[-1].items.append(item)
            else:
                elements.append(Element("list", items=[item]))
        elif elements and elements[-1].kind in ("p", "list") and prev and _close(prev, ln) and not level_of(prev):
            last = elements[-1]
            if last.kind == "list":
                last.items[-1] = _join(last.items[-1], ln["text"])
            else:
                last.text = _join(last.text, ln["text"])
        else:
            elements.append(Element("p", text=ln["text"]))
        prev = ln
    title = clean(str(meta.get("Title", "") or ""))
    date = _pdf_date(meta.get("ModDate") or meta.get("CreationDate"))
    return Document(elements, title=title, date=date, notes=notes)


def _line(ln: dict) -> dict:
    sizes = [round(c["size"], 1) for c in ln["chars"] if c["text"].strip()]
    size = Counter(sizes).most_common(1)[0][0] if sizes else 0
    bold = sum("bold" in c.get("fontname", "").lower() for c in ln["chars"]) > len(ln["chars"]) / 2
    return {"text": clean(ln["text"]), "size": size, "bold": bold, "top": ln["top"], "bottom": ln["bottom"],
            "x0": ln["x0"]}


def _join(a: str, b: str) -> str:
    # A word cut at the end of a line ("vacci-" / "nation") is joined back.
    if re.search(r"[a-zà-ÿ]-$", a) and b[:1].islower():
        return a[:-1] + b
    return f"{a} {b}"


def _close(prev: dict, ln: dict) -> bool:
    """The next line of the same paragraph: same size, little vertical gap."""
    height = prev["bottom"] - prev["top"]
    return abs(prev["size"] - ln["size"]) < 0.5 and 0 <= ln["top"] - prev["bottom"] < height * 0.8


def _outline(pdf) -> list[tuple[str, int]]:
    try:
        return [(clean(title), level) for level, title, *_ in pdf.doc.get_outlines() if clean(title or "")]
    except Exception:  # pdfminer raises PDFNoOutlines, and others on odd files: then font sizes decide
        return []


def _drop_furniture(pages: list[list[dict]]) -> tuple[list[list[dict]], list[str]]:
    """Remove page numbers, navigation buttons and lines repeated at the same place on most pages."""
    notes = []
    key = lambda ln: (re.sub(r"\d+", "#", fold(ln["text"])), round(ln["top"] / 5))  # noqa: E731
    seen = Counter(k for page in pages for k in {key(ln) for ln in page})
    repeated = {k for k, n in seen.items() if len(pages) >= 2 and n >= max(2, len(pages) * 0.6)}
    counts = Counter()
    out = []
    for page in pages:
        kept = []
        for ln in page:
            folded = fold(ln["text"])
            if _PAGE_NUMBER.match(ln["text"]):
                counts["page numbers"] += 1
            elif folded in NAVIGATION or all(w in NAVIGATION for w in _nav_words(folded)) or _button(folded):
                counts["navigation links"] += 1
            elif key(ln) in repeated:
                counts["running headers and footers"] += 1
            else:
                kept.append(ln)
        out.append(kept)
    if counts:
        notes.append("Removed " + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")
    return out, notes


# Buttons that name where they lead: "EN SAVOIR PLUS : SÉCURITÉ", "Retour au menu principal".
_BUTTONS = ("en savoir plus", "retour au menu", "retour au sommaire", "page suivante", "page precedente")


def _button(folded: str) -> bool:
    return any(folded.startswith(b) and len(folded.split()) <= len(b.split()) + 3 for b in _BUTTONS)


def _nav_words(folded: str) -> list[str]:
    """'precedent suivant retour au menu' -> the buttons it is made of, or [''] if it is not only buttons."""
    words, found = folded.split(), []
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            if " ".join(words[i:i + n]) in NAVIGATION:
                found.append(" ".join(words[i:i + n]))
                i += n
                break
        else:
            return [""]
    return found or [""]


def _font_levels(lines: list[dict], notes: list[str]):
    """Body text is the commonest size; bigger sizes (or bold at body size) are headings, biggest first."""
    if not lines:
        return lambda ln: None
    weight = Counter()
    for ln in lines:
        weight[ln["size"]] += len(ln["text"])
    body = weight.most_common(1)[0][0]
    bigger = sorted({ln["size"] for ln in lines if ln["size"] > body * 1.12}, reverse=True)[:3]
    levels = {size: i for i, size in enumerate(bigger, 1)}
    if bigger:
        notes.append(f"No bookmarks: headings guessed from font sizes ({', '.join(f'{s:g} pt' for s in bigger)}; "
                     f"body text {body:g} pt).")
    else:
        notes.append("No bookmarks and one font size: no headings found.")
    return lambda ln: levels.get(ln["size"])


def _pdf_date(value):
    import datetime as dt

    m = re.search(r"(\d{4})(\d{2})(\d{2})", str(value or ""))
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
