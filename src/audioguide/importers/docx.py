"""Word documents, read with python-docx: heading styles give the levels; lists and hyperlinks are kept."""

from __future__ import annotations

import re
from pathlib import Path

from audioguide.exceptions import AudioguideError
from audioguide.importers import Document, Element, clean

# English, French and German names of Word's built-in heading styles ("Heading 2", "Titre 2", "Überschrift 2").
_HEADING = re.compile(r"^(?:heading|titre|überschrift|titolo|título)\s*(\d)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list|liste|puce|bullet|number", re.IGNORECASE)


def read_docx(path: Path) -> Document:
    try:
        import docx
        from docx.table import Table
        from docx.text.hyperlink import Hyperlink
        from docx.text.paragraph import Paragraph
    except ImportError:
        raise AudioguideError("Importing Word files needs python-docx.",
                              fix="pip install 'audioguide[import]'") from None
    try:
        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises zipfile, KeyError and lxml errors alike for a damaged file
        raise AudioguideError(f"Cannot read {path.name} as a Word document ({exc.__class__.__name__}).",
                              cause="the file is damaged, or is an old .doc renamed .docx",
                              fix="open it in Word or LibreOffice and save it again as .docx") from None
    out: list[Element] = []
    notes: list[str] = []
    title = clean(d.core_properties.title or "")
    tables = 0
    for item in d.iter_inner_content():
        if isinstance(item, Table):
            tables += 1
            for row in item.rows:
                cells = [clean(c.text) for c in row.cells]
                if any(cells):
                    out.append(Element("p", text=" ; ".join(dict.fromkeys(c for c in cells if c))))
            continue
        p: Paragraph = item
        text, links = "", []
        for part in p.iter_inner_content():
            text += part.text
            if isinstance(part, Hyperlink) and part.url:
                links.append(Element("link", text=clean(part.text) or part.url, url=part.url))
        text = clean(text)
        style = p.style.name if p.style is not None else ""
        if m := _HEADING.match(style):
            out.append(Element("heading", text=text, level=int(m.group(1))))
        elif style.lower() in ("title", "titre") and text:
            title = title or text
        elif _LIST_STYLE.search(style) or p._p.pPr is not None and p._p.pPr.numPr is not None:
            if out and out[-1].kind == "list" and not links:
                out[-1].items.append(text)
            elif text:
                out.append(Element("list", items=[text]))
        elif links and clean(" ".join(link.text for link in links)) == text:
            out.extend(links)
            links = []
        elif text:
            out.append(Element("p", text=text))
        out.extend(links)
    if tables:
        notes.append(f"{tables} table(s) were flattened into paragraphs (one per row): check they still read well.")
    modified = d.core_properties.modified or d.core_properties.created
    return Document(out, title=title, date=modified.date() if modified else None, notes=notes)
