"""Word documents, read with python-docx: heading styles give the levels; lists and hyperlinks are kept."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from audioguide.exceptions import AudioguideError
from audioguide.i18n import _
from audioguide.importers import Document, Element, clean

# English, French and German names of Word's built-in heading styles ("Heading 2", "Titre 2", "Überschrift 2").
_HEADING = re.compile(r"^(?:heading|titre|überschrift|titolo|título)\s*(\d)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list|liste|puce|bullet|number", re.IGNORECASE)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
# A paragraph this short, alone and all in bold or larger type, may be a heading the author did not style.
HEADING_LIKE_CHARS = 90

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
        raise AudioguideError(_("Importing Word files needs python-docx."),
                              fix=_("install it: pip install 'audioguide[import]'")) from None
    _check_sizes(path)
    try:
        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises zipfile, KeyError and lxml errors alike for a damaged file
        raise _damaged(path, exc) from None
    notes: list[str] = []
    body = d.element.body
    revisions, entities = _accepted_view(body)
    if revisions:
        notes.append(_("The document has {n} tracked change(s) (revisions): the draft takes them as accepted "
                       "(insertions kept, deletions removed). Review it beside the document.").format(n=revisions))
    if entities:
        notes.append(_("Entity references left out (the import never expands them, for safety): {entities}; the "
                       "text around them is kept.").format(entities=", ".join(sorted(set(entities)))))
    reader = _Reader(d, Paragraph, Hyperlink)
    reader.blocks(body)
    notes += reader.left_out
    notes += _comments(d) + _headers_footers(d)
    if reader.dangling:
        notes.append(_("{n} link(s) without an address in the document (a broken link in Word): their text is kept, "
                       "without a link.").format(n=reader.dangling))
    modified = d.core_properties.modified or d.core_properties.created
    title = clean(d.core_properties.title or "") or reader.title
    return Document(reader.out, title=title, date=modified.date() if modified else None, notes=notes)


def _quote(text: str) -> str:
    return f"« {text[:60]}{'…' if len(text) > 60 else ''} »"


def _comments(d) -> list[str]:
    """Comments are notes between authors, never read aloud: the report names each one."""
    try:
        comments = [(clean(c.text), clean(c.author or "")) for c in d.comments]
    except Exception:  # noqa: BLE001  (a damaged comments part: the text of the document is what matters)
        return []
    said = [f"{_quote(text)}" + (f" ({author})" if author else "") for text, author in comments if text]
    if not said:
        return []
    return [_("The document has {n} comment(s), which are not read aloud: {comments}. If one of them must be "
              "heard, write it in the draft's text.").format(n=len(said), comments=", ".join(said))]


def _headers_footers(d) -> list[str]:
    """Page headers and footers (a title, a page number, an address) are not part of what is read."""
    found: dict[str, list[str]] = {"En-tête": [], "Pied de page": []}
    for section in d.sections:
        for kind, parts in (("En-tête", (section.header, section.first_page_header, section.even_page_header)),
                            ("Pied de page", (section.footer, section.first_page_footer, section.even_page_footer))):
            for part in parts:
                if part.is_linked_to_previous:
                    continue
                text = clean(" ".join(p.text for p in part.paragraphs))
                if text and _quote(text) not in found[kind]:
                    found[kind].append(_quote(text))
    names = {"En-tête": _("Header"), "Pied de page": _("Footer")}
    return [_("{kind} of the pages not carried over: {texts}. If it says something useful (an address, a number), "
              "write it in a page of the draft.").format(kind=names[kind], texts=", ".join(texts))
            for kind, texts in found.items() if texts]


def _damaged(path: Path, exc: Exception) -> AudioguideError:
    return AudioguideError(_("Cannot read {name} as a Word document ({error}).").format(
                               name=path.name, error=exc.__class__.__name__),
                           cause=_("the file is damaged, or it is an old .doc renamed .docx"),
                           fix=_("open it in Word or LibreOffice and save it again as .docx"))


def _check_sizes(path: Path) -> None:
    """Refuse a .docx whose parts inflate past the limits, by their declared sizes and then by the bytes
    actually inflated (a zip bomb can declare small sizes), read 1 MB at a time."""
    def refuse(what: str, size: int, limit: int):
        def mb(n: int) -> str:
            return f"{n / 1e6:,.0f}".replace(",", " ")
        return AudioguideError(_("{name}: {what} would be {size} MB once decompressed; the import reads {limit} MB "
                                 "at most.").format(name=path.name, what=what, size=mb(size), limit=mb(limit)),
                               cause=_("the file is damaged, or made on purpose to fill the memory"),
                               fix=_("open it in Word or LibreOffice and save it again as .docx; if it really is that "
                                     "big, cut it into several documents"))
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > MAX_PARTS:
                raise AudioguideError(_("{name}: {count} files in the .docx; the import reads {limit} at most.")
                                      .format(name=path.name, count=len(infos), limit=MAX_PARTS),
                                      cause=_("the file is damaged"),
                                      fix=_("save it again from Word or LibreOffice"))
            total = 0
            for info in infos:
                limit = MAX_XML_BYTES if info.filename.endswith((".xml", ".rels")) else MAX_PART_BYTES
                if info.file_size > limit:
                    raise refuse(_("the part {name}").format(name=info.filename), info.file_size, limit)
                total += info.file_size
                if total > MAX_TOTAL_BYTES:
                    raise refuse(_("the document"), total, MAX_TOTAL_BYTES)
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


def _number_formats(d) -> dict[str, str]:
    """Each numbering's format at its first level ("decimal", "bullet"…), by numId."""
    try:
        numbering = d.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    abstract = {a.get(f"{W}abstractNumId"): a for a in numbering.iterchildren(W + "abstractNum")}
    out = {}
    for num in numbering.iterchildren(W + "num"):
        ref = num.find(f"{W}abstractNumId")
        a = abstract.get(ref.get(f"{W}val")) if ref is not None else None
        fmt = a.find(f"{W}lvl/{W}numFmt") if a is not None else None
        if fmt is not None:
            out[num.get(f"{W}numId")] = fmt.get(f"{W}val") or ""
    return out


class _Reader:
    def __init__(self, d, paragraph_class, hyperlink_class):
        self.d, self.Paragraph, self.Hyperlink = d, paragraph_class, hyperlink_class
        self.out: list[Element] = []
        self.title = ""
        self.dangling = 0
        self.left_out: list[str] = []
        """Report lines for what the draft does not carry as it is: images, tables."""
        self.list_key = None
        self.formats = _number_formats(d)
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
        self.list_key = None
        rows: list[str] = []  # its own rows, not those of a table nested in a cell (named on their own)
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
                rows.append(self.out[-1].text)
            for inner in nested:
                self.table(inner)
        if rows:
            self.left_out.append(_("Table {table}: it is not carried over as a table; its {n} row(s) became "
                                   "paragraphs, cells separated by « ; ». Read them aloud: if they are hard to "
                                   "follow, write them as sentences.").format(table=_quote(rows[0]), n=len(rows)))

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

    def images(self, p, text: str) -> None:
        """Images are not carried over: each is named in the report, its alt text offered as a sentence."""
        where = text or (self.out[-1].text or " ".join(self.out[-1].items) if self.out else "")
        for pr in p.iter(WP + "docPr"):
            alt = clean(pr.get("descr") or pr.get("title") or "")
            near = _("near {text}").format(text=_quote(where)) if where else _("at the start of the document")
            if alt:
                self.left_out.append(_("Image {near} not carried over. Its alternative text can become a sentence of "
                                       "the draft: « Image : {alt}. »").format(near=near, alt=alt.rstrip('.')))
            else:
                self.left_out.append(_("Image {near} not carried over, without alternative text: if it gives "
                                       "information, write it as a sentence in the draft.").format(near=near))

    def heading_like(self, p, text: str, style: str) -> bool:
        """All its runs in bold (or the style bold), or larger than body text: a heading left unstyled."""
        if not text or len(text) > HEADING_LIKE_CHARS or text.endswith((".", ",", ";", ":")):
            return False
        runs = [r for r in p.iter(W + "r") if "".join(t.text or "" for t in r.iter(W + "t")).strip()]
        bold = all(r.find(f"{W}rPr/{W}b") is not None and r.find(f"{W}rPr/{W}b").get(f"{W}val", "1")
                   not in ("0", "false") for r in runs) or "strong" in style.lower()
        sizes = [int(sz.get(f"{W}val")) for r in runs if (sz := r.find(f"{W}rPr/{W}sz")) is not None
                 and (sz.get(f"{W}val") or "").isdigit()]
        return bool(runs) and (bold or (len(sizes) == len(runs) and min(sizes) >= 28))  # 14 pt and more

    def numbered(self, num, style: str) -> bool:
        """A list Word numbers: by its numbering's format, else by its style's name ("List Number")."""
        num_id = num.find(f"{W}numId") if num is not None else None
        fmt = self.formats.get(num_id.get(f"{W}val")) if num_id is not None else None
        if fmt:
            return fmt not in ("bullet", "none")
        return bool(re.search(r"number|numéro|num\b", style, re.IGNORECASE))

    def paragraph(self, p) -> None:
        text, links = self.text(p)
        self.images(p, text)
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
                self.out.append(Element("list", items=[text], numbered=self.numbered(num, style)))
            else:
                key = self.list_key
        elif links and clean(" ".join(link.text for link in links)) == text:
            self.out.extend(links)
            links = []
        elif text:
            self.out.append(Element("p", text=text, heading_like=self.heading_like(p, text, style)))
        self.list_key = key
        self.out.extend(links)
