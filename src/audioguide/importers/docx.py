"""Word documents, read with python-docx: heading styles give the levels; lists and hyperlinks are kept."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from audioguide.exceptions import AudioguideError
from audioguide.importers import Document, Element, clean

# English, French and German names of Word's built-in heading styles ("Heading 2", "Titre 2", "Überschrift 2").
_HEADING = re.compile(r"^(?:heading|titre|überschrift|titolo|título)\s*(\d)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list|liste|puce|bullet|number", re.IGNORECASE)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# What a .docx may inflate to. A 500-page report's document.xml is about 10 MB; python-docx keeps every part
# (images too) in memory while it reads, and lxml a tree of each XML part: a 39 MB document.xml of 357,000
# short paragraphs takes 364 MB and 55 s.
MAX_XML_BYTES = 40_000_000
MAX_PART_BYTES = 150_000_000
MAX_TOTAL_BYTES = 300_000_000
MAX_PARTS = 5_000
# Wrappers whose content Word shows as ordinary text: accepted insertions and moves, content controls,
# smart tags, simple fields. python-docx reads only runs and paragraphs that are direct children.
_UNWRAP = tuple(W + t for t in ("ins", "moveTo", "sdt", "sdtContent", "smartTag", "customXml", "fldSimple"))
_REVISIONS = tuple(W + t for t in ("ins", "del", "moveFrom", "moveTo"))


def read_docx(path: Path) -> Document:
    try:
        import docx
        from docx.text.hyperlink import Hyperlink
        from docx.text.paragraph import Paragraph
    except ImportError:
        raise AudioguideError("Importing Word files needs python-docx.",
                              fix="pip install 'audioguide[import]'") from None
    _check_sizes(path)
    try:
        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises zipfile, KeyError and lxml errors alike for a damaged file
        raise _damaged(path, exc) from None
    notes: list[str] = []
    body = d.element.body
    revisions, entities = _accepted_view(body)
    if revisions:
        notes.append(f"The document has {revisions} tracked changes (revisions): the draft takes them as accepted "
                     "(insertions kept, deletions dropped). Check it against the document.")
    if entities:
        notes.append("Left out entity references, which the import never expands (a safety rule): "
                     + ", ".join(sorted(set(entities))) + "; the text around them is kept.")
    reader = _Reader(d, Paragraph, Hyperlink)
    reader.blocks(body)
    if reader.tables:
        notes.append(f"{reader.tables} table(s) were flattened into paragraphs (one per row): check they still "
                     "read well.")
    if reader.dangling:
        notes.append(f"{reader.dangling} link(s) have no address in the document (a broken link in Word): "
                     "their text is kept, without a link.")
    modified = d.core_properties.modified or d.core_properties.created
    title = clean(d.core_properties.title or "") or reader.title
    return Document(reader.out, title=title, date=modified.date() if modified else None, notes=notes)


def _damaged(path: Path, exc: Exception) -> AudioguideError:
    return AudioguideError(f"Cannot read {path.name} as a Word document ({exc.__class__.__name__}).",
                           cause="the file is damaged, or is an old .doc renamed .docx",
                           fix="open it in Word or LibreOffice and save it again as .docx")


def _check_sizes(path: Path) -> None:
    """Refuse a .docx whose parts inflate past the limits, by their declared sizes and then by the bytes
    actually inflated (a zip bomb can declare small sizes), read 1 MB at a time."""
    def refuse(what: str, size: int, limit: int):
        return AudioguideError(f"{path.name} : {what} ferait {size / 1e6:,.0f} Mo une fois décompressé ; l'import "
                               f"lit {limit / 1e6:,.0f} Mo au plus.".replace(",", " "),
                               cause="le fichier est endommagé, ou fait exprès pour saturer la mémoire",
                               fix="ouvrez-le dans Word ou LibreOffice et enregistrez-le à nouveau en .docx ; "
                                   "s'il est vraiment si gros, coupez-le en plusieurs documents")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > MAX_PARTS:
                raise AudioguideError(f"{path.name} : {len(infos)} fichiers dans le .docx ; l'import en lit "
                                      f"{MAX_PARTS} au plus.", cause="le fichier est endommagé",
                                      fix="enregistrez-le à nouveau depuis Word ou LibreOffice")
            total = 0
            for info in infos:
                limit = MAX_XML_BYTES if info.filename.endswith((".xml", ".rels")) else MAX_PART_BYTES
                if info.file_size > limit:
                    raise refuse(f"la partie {info.filename}", info.file_size, limit)
                total += info.file_size
                if total > MAX_TOTAL_BYTES:
                    raise refuse("le document", total, MAX_TOTAL_BYTES)
            for info in infos:  # a part that inflates past its declared size fails its CRC check here
                with z.open(info) as f:
                    while f.read(1 << 20):
                        pass
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise _damaged(path, exc) from None


def _accepted_view(body) -> tuple[int, list[str]]:
    """Word's "accept all changes", and entity references removed, in place; returns the number of revisions
    and the entities' names. python-docx reads a w:t's text only up to an entity reference."""
    from lxml import etree

    revisions = sum(1 for el in body.iter(*_REVISIONS) if el.getparent().tag not in (W + "rPr", W + "pPr"))
    for el in list(body.iter(W + "del", W + "moveFrom")):
        parent = el.getparent()
        if parent is None:  # inside a row removed just before
            continue
        if parent.tag == W + "trPr":  # a deleted table row
            row = parent.getparent()
            row.getparent().remove(row)
        else:
            parent.remove(el)
    for el in list(body.iter(*_UNWRAP)):
        parent = el.getparent()
        at = parent.index(el)
        for child in reversed([c for c in el if c.tag != W + "sdtPr" and c.tag != W + "sdtEndPr"]):
            parent.insert(at, child)
        parent.remove(el)
    entities = []
    for ent in list(body.iter(etree.Entity)):
        entities.append(f"&{ent.name};")
        parent, prev = ent.getparent(), ent.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + (ent.tail or "")
        else:
            parent.text = (parent.text or "") + (ent.tail or "")
        parent.remove(ent)
    return revisions, entities


class _Reader:
    def __init__(self, d, paragraph_class, hyperlink_class):
        self.d, self.Paragraph, self.Hyperlink = d, paragraph_class, hyperlink_class
        self.out: list[Element] = []
        self.title = ""
        self.tables = self.dangling = 0
        self.list_key = None
        # Style names by id, looked up once: python-docx's paragraph.style searches the styles part each time
        # (5 ms a paragraph: half an hour for those 357,000 paragraphs).
        from docx.enum.style import WD_STYLE_TYPE

        kind = WD_STYLE_TYPE.PARAGRAPH
        self.styles = {st.style_id: st.name or "" for st in d.styles if st.type == kind}
        default = d.styles.default(kind)
        self.default_style = default.name or "" if default is not None else ""

    def blocks(self, container) -> None:
        for el in container:
            if el.tag == W + "p":
                self.paragraph(el)
            elif el.tag == W + "tbl":
                self.table(el)

    def table(self, tbl) -> None:
        """One paragraph per row. Cells are read from the row's own w:tc elements: python-docx's row.cells
        repeats a merged cell once per grid column it spans (100,000,000 times for a hostile w:gridSpan)."""
        self.tables += 1
        self.list_key = None
        for tr in tbl.iterchildren(W + "tr"):
            cells, nested = [], []
            for tc in tr.iterchildren(W + "tc"):
                texts = []
                for el in tc:
                    if el.tag == W + "p":
                        texts.append(self.text(el)[0])
                    elif el.tag == W + "tbl":
                        nested.append(el)
                cells.append(clean(" ".join(texts)))
            if any(cells):
                self.out.append(Element("p", text=" ; ".join(dict.fromkeys(c for c in cells if c))))
            for inner in nested:
                self.table(inner)

    def text(self, p) -> tuple[str, list[Element]]:
        text, links = "", []
        for part in self.Paragraph(p, self.d).iter_inner_content():
            if isinstance(part, self.Hyperlink):
                try:
                    url = part.url
                except KeyError:  # its r:id names no relationship of the document
                    self.dangling += 1
                    url = ""
                if url:
                    links.append(Element("link", text=clean(part.text) or url, url=url))
            text += part.text
        return clean(text), links

    def paragraph(self, p) -> None:
        text, links = self.text(p)
        style_id = p.find(f"{W}pPr/{W}pStyle")
        style = self.styles.get(style_id.get(f"{W}val"), self.default_style) if style_id is not None \
            else self.default_style
        num = p.find(f"{W}pPr/{W}numPr")
        key = None
        if m := _HEADING.match(style):
            self.out.append(Element("heading", text=text, level=int(m.group(1))))
        elif style.lower() in ("title", "titre") and text:
            self.title = self.title or text
        elif _LIST_STYLE.search(style) or num is not None:
            # A new list when the numbering or the style changes: two lists in a row stay two lists.
            num_id = num.find(f"{W}numId") if num is not None else None
            key = (style, num_id.get(f"{W}val") if num_id is not None else None)
            if self.out and self.out[-1].kind == "list" and not links and key == self.list_key:
                self.out[-1].items.append(text)
            elif text:
                self.out.append(Element("list", items=[text]))
            else:
                key = self.list_key
        elif links and clean(" ".join(link.text for link in links)) == text:
            self.out.extend(links)
            links = []
        elif text:
            self.out.append(Element("p", text=text))
        self.list_key = key
        self.out.extend(links)
