"""Saved web pages, read with lxml: the main content is found; menus, footers and cookie banners are dropped."""

from __future__ import annotations

import codecs
import datetime as dt
import re
from pathlib import Path
from typing import Any

from lxml import html as lhtml

from audioguide.exceptions import AudioguideError
from audioguide.i18n import _
from audioguide.importers import Document, Element, clean

DROP_TAGS = ("script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form", "button",
             "iframe", "svg", "dialog", "select")
DROP_ROLES = ("navigation", "banner", "contentinfo", "search", "dialog", "alertdialog", "complementary")
# Class or id words of page furniture, as site builders and consent tools name it.
_FURNITURE = re.compile(r"(?:^|[\s_-])(cookie|cookies|consent|gdpr|rgpd|tarteaucitron|didomi|onetrust|banner|"
                        r"navbar|nav|menu|breadcrumbs?|fil-ariane|footer|header|sidebar|share|social|newsletter|"
                        r"skip|pagination|related|popup|modal)(?:$|[\s_-])", re.IGNORECASE)


# Far above a saved article (the largest real pages are a few MB with their scripts); lxml needs about ten
# times the file in memory.
MAX_BYTES = 20_000_000
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# What a listener would miss if it were left out: each one dropped is named in the report.
CONTENT_TAGS = (*HEADINGS, "p", "li", "dd", "dt", "blockquote", "pre", "td", "th")


def read_html(path: Path) -> Document:
    _check_size(path)
    notes: list[str] = []
    root = _parse(path, _decode(path.read_bytes(), notes))
    title = clean(" ".join(root.xpath("//head/title//text()")))
    meta_date = root.xpath("//meta[@property='article:modified_time' or @property='article:published_time' "
                           "or @name='date' or @name='dcterms.modified']/@content")
    _drop_furniture(root, notes)
    main = _main(root)
    outside = _outside(root, main)
    if outside:
        notes.append(_("Kept the page's main content, <{tag}>; left out around it: {texts}.").format(
            tag=main.tag, texts=", ".join(map(_quote, outside))))
    elements: list[Element] = []
    _walk(main, elements)
    notes += _images(main) + _tables(main)
    elements = _drop_navigation(elements, notes)
    h1 = [e.text for e in elements if e.kind == "heading" and e.level == 1]
    if len(h1) == 1:
        title = h1[0]
    return Document(elements, title=title, date=_date(meta_date), notes=notes)


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise AudioguideError(_("{name} is {size} MB: the import reads a web page of {limit} MB at most.").format(
                                  name=path.name, size=f"{size / 1e6:.0f}", limit=MAX_BYTES // 1_000_000),
                              cause=_("the file is probably not a page saved on its own"),
                              fix=_("save the page from the browser (File > Save As > Web page, HTML only)"))


def _parse(path: Path, text: str) -> Any:
    """The page's element tree (an lxml HtmlElement); a page libxml2 cannot read whole is refused."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    parser = lhtml.HTMLParser(huge_tree=True)  # elements nested past 256 deep would be dropped without it
    try:
        root = lhtml.document_fromstring(text, parser=parser)
    except (ValueError, lhtml.etree.ParserError) as exc:
        raise AudioguideError(_("Cannot read {name} as a web page ({error}).").format(name=path.name, error=exc),
                              fix=_("save the page again from the browser (File > Save As > Web page, HTML only)")
                              ) from exc
    if any("Excessive depth" in e.message for e in parser.error_log):  # libxml2 stops at 2,048 even then
        raise AudioguideError(_("{name} nests its elements more than 2048 levels deep: the import reads no more, "
                                "and the rest of the page would be lost.").format(name=path.name),
                              cause=_("the page is damaged, or crafted"),
                              fix=_("copy its text into Word or LibreOffice, then import the .docx"))
    return root


def _drop_furniture(root: Any, notes: list[str]) -> None:
    """Remove menus, headers, footers, banners and scripts, saying which in the notes."""
    dropped, left_out, gone = 0, [], set[Any]()
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None or gone and any(a in gone for a in el.iterancestors()):
            continue  # the root, or inside what was removed already (counted and named with it)
        words = f"{el.get('class', '')} {el.get('id', '')}"
        if el.tag in DROP_TAGS or el.get("role") in DROP_ROLES or el.get("aria-hidden") == "true" \
                or el.get("hidden") is not None \
                or (el.tag not in ("main", "article", "body") and _FURNITURE.search(words)):
            left_out += _content(el)
            el.drop_tree()
            gone.add(el)
            dropped += 1
    if dropped:
        notes.append(_("{n} menu(s), header(s), footer(s), banner(s) and script(s) of the page removed").format(
            n=dropped) + (": " + ", ".join(map(_quote, left_out)) if left_out else "") + ".")


def _drop_navigation(elements: list[Element], notes: list[str]) -> list[Element]:
    nav = [e for e in elements if e.kind == "p" and _navigation(e.text)]
    if nav:
        elements = [e for e in elements if e not in nav]
        notes.append(_("Navigation links removed (they lead to other pages, of no use to the listener): {texts}.")
                     .format(texts=", ".join(dict.fromkeys(_quote(e.text) for e in nav))))
    return elements


def _date(meta_date: list[str]) -> dt.date | None:
    """The page's date from its first date <meta>, if it reads as one."""
    if meta_date:
        try:
            return dt.date.fromisoformat(meta_date[0][:10])
        except ValueError:
            pass
    return None


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _decode(raw: bytes, notes: list[str]) -> str:
    """The page's text: by its byte-order mark, else UTF-8, else the <meta> charset, else Windows-1252 (what
    browsers assume), saying so in the report when it is a guess."""
    codec = next((c for bom, c in _BOMS if raw.startswith(bom)), None)
    if codec:
        raw = raw[len(next(b for b, c in _BOMS if c == codec)):]
    elif raw[:400].count(b"\x00") > len(raw[:400]) // 4:  # UTF-16 without a mark: ASCII tags with NULs between
        codec = "utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be"
    else:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        m = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", raw[:4096], re.IGNORECASE)
        codec = "cp1252"
        if m:
            try:
                codec = codecs.lookup(m.group(1).decode("ascii")).name
            except LookupError:
                pass
        if codec in ("latin-1", "iso8859-1", "ascii", "utf-8"):
            codec = "cp1252"  # as browsers do: a page that says Latin-1 (or wrongly UTF-8) is Windows-1252
        notes.append(_("The page is not in UTF-8: it was read as {codec}; check the draft's accents.").format(
            codec=codec))
    text = raw.decode(codec, errors="replace")
    if "\ufffd" in text:
        notes.append(_("{n} byte(s) of the page unreadable as {codec} became U+FFFD (�): review the draft beside "
                       "the page.").format(n=text.count(chr(0xFFFD)), codec=codec))
    return text


def _navigation(text: str) -> bool:
    """Only navigation buttons: « Précédent / Suivant », « < Retour au sommaire | Haut de page ^ »."""
    from audioguide.guide.markdown import fold
    from audioguide.importers.pdf import NAVIGATION, _nav_words

    folded = clean(re.sub(r"[/|<>«»‹›^↑←→·•–—-]", " ", fold(text)))
    return bool(folded) and (folded in NAVIGATION or all(w in NAVIGATION for w in _nav_words(folded)))


def _images(main) -> list[str]:
    """Images are not carried over: each is named, its alt text offered as a sentence."""
    out = []
    for img in main.iter("img"):
        alt = clean(img.get("alt") or "")
        name = (img.get("src") or "").rsplit("/", 1)[-1][:60]
        if alt:
            out.append(_("Image {near} not carried over. Its alternative text can become a sentence of the draft: "
                         "« Image : {alt}. »").format(near=f"« {name} »", alt=alt.rstrip('.')))
        elif img.get("alt") is None:  # alt="" says the image is decoration
            out.append(_("Image {near} not carried over, without alternative text: if it gives information, write "
                         "it as a sentence in the draft.").format(near=f"« {name} »"))
    return out


def _tables(main) -> list[str]:
    out = []
    for table in main.iter("table"):
        rows = table.xpath("./tr | ./*/tr")
        if rows:
            first = clean(" ; ".join(clean(c.text_content()) for c in rows[0] if isinstance(c.tag, str)))
            out.append(_("Table {table}: it is not carried over as a table; its {n} row(s) became paragraphs, cells "
                         "separated by « ; ». Read them aloud: if they are hard to follow, write them as sentences.")
                       .format(table=_quote(first), n=len(rows)))
    return out


def _quote(text: str) -> str:
    return f"« {text[:60]}{'…' if len(text) > 60 else ''} »"


def _content(el) -> list[str]:
    """The headings and paragraphs inside EL, outermost first, for the report."""
    if el.tag in ("script", "style", "template", "svg"):
        return []
    found, inside = [], set()
    for sub in el.iter(*CONTENT_TAGS):
        if not any(a in inside for a in sub.iterancestors(*CONTENT_TAGS)):
            inside.add(sub)
            text = clean(sub.text_content())
            if text:
                found.append(text)
    return found


def _size(el) -> int:
    return len(clean(el.text_content()))


def _main(root):
    """The element holding the page's content: <main> (or role=main) if there is one, else the element with
    the most text of its own; widened until it holds every heading of the page and, when guessed, 80 % of its
    text. A teaser <article>, or one long section in its own <div>, is never taken for the whole page."""
    body = root.find("body") if root.find("body") is not None else root
    declared = root.xpath("//main | //*[@role='main']")
    if len(declared) == 1:
        best, guessed = declared[0], False
    else:
        best, best_score, guessed = body, -1, True
        for el in body.iter("div", "section", "article", "main", "td", "body"):
            score = len(clean(el.text or "")) + sum(
                _size(c) + len(clean(c.tail or "")) for c in el if isinstance(c.tag, str) and c.tag not in
                ("div", "section", "article", "main", "table"))
            if score > best_score:  # ties go to the outer element, seen first
                best, best_score = el, score
    headings = [h for h in body.iter(*HEADINGS)]
    total = _size(body)
    while best is not body and best.getparent() is not None:
        inside = set(best.iter(*HEADINGS))
        if all(h in inside for h in headings) and (not guessed or _size(best) >= 0.8 * total
                                                   and not _text_beside(best)):
            break
        best = best.getparent()
    return best


def _text_beside(el) -> bool:
    """Text right beside EL, not in a box of its own: the same flow of text, so EL is not all of it."""
    parent = el.getparent()
    return bool(clean(parent.text or "")) or any(
        clean(s.tail or "") or (s is not el and s.tag not in ("div", "section", "article", "main", "aside")
                                and clean(s.text_content())) for s in parent if isinstance(s.tag, str))


def _outside(root, main) -> list[str]:
    """The headings and paragraphs of the page that are not in MAIN."""
    if main.tag in ("html", "body"):
        return []
    body = root.find("body") if root.find("body") is not None else root
    kept = set(main.iter())
    out = []
    for child in body.iter():
        if child in kept or not isinstance(child.tag, str) or child.tag not in CONTENT_TAGS:
            continue
        if not any(a.tag in CONTENT_TAGS for a in child.iterancestors()) and clean(child.text_content()):
            out.append(clean(child.text_content()))
    return out


def _inline(el) -> tuple[str, list[Element]]:
    links = [Element("link", text=clean(a.text_content()) or a.get("href"), url=a.get("href"))
             for a in el.iter("a") if (a.get("href") or "").startswith(("http://", "https://", "mailto:", "tel:"))]
    return clean(_spaced_text(el)), links


# Elements that break a line: text_content() glues the words on either side ("maladie<br>est").
_BREAKS = {"br", "p", "div", "li", "ul", "ol", "dl", "dd", "dt", "table", "tr", "td", "th", "blockquote", "pre",
           "section", "article", "aside", "figure", "figcaption", "address", *HEADINGS}


def _spaced_text(el) -> str:
    """EL's text as text_content() gives it, with a space where a line break or a block parts two words."""
    from lxml import etree

    parts = []
    for event, node in etree.iterwalk(el, events=("start", "end")):
        space = " " if node.tag in _BREAKS else ""
        if event == "start" and isinstance(node.tag, str):
            parts.append(space + (node.text or ""))
        elif event == "end" and node is not el:
            parts.append(space + (node.tail or ""))
    return "".join(parts)


INLINE = {"span", "strong", "em", "b", "i", "small", "mark", "abbr", "time", "font", "u", "sup", "sub", "br"}


def _walk(root, out: list[Element]) -> None:
    """The blocks of ROOT in document order; with a stack, not recursion: a page may nest 2,000 deep."""
    def loose(text: str | None) -> None:  # text written straight into a <div>, without <p>, is a paragraph too
        if clean(text or ""):
            out.append(Element("p", text=clean(text or "")))

    loose(root.text)
    stack = [(root, iter(root))]
    while stack:
        el, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if stack:
                loose(el.tail)
        elif _child(child, out):
            loose(child.tail)
        else:
            loose(child.text)
            stack.append((child, iter(child)))


def _child(child, out: list[Element]) -> bool:
    """Read CHILD if it is a block; False for a container, to be walked."""
    if not isinstance(child.tag, str):
        return True
    tag = child.tag.lower()
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        text = clean(_spaced_text(child))
        if text:
            out.append(Element("heading", text=text, level=int(tag[1])))
    elif tag in ("ul", "ol"):
        _list(child, tag == "ol", out)
    elif tag in ("p", "blockquote", "pre", "dd", "dt", "figcaption") or _box(child):
        _paragraph(child, out)
    elif tag == "table":
        _table(child, out)
    elif tag == "a" and child.get("href", "").startswith(("http://", "https://", "mailto:", "tel:")):
        text, links = _inline(child)
        out.extend(links)
    elif tag in INLINE:
        if clean(child.text_content()):
            out.append(Element("p", text=clean(child.text_content())))
    else:
        return False
    return True


def _list(child: Any, numbered: bool, out: list[Element]) -> None:
    """A <ul>/<ol>: its items, then the links found in them."""
    items: list[str] = []
    links: list[Element] = []
    for li in child.iterchildren("li"):
        text, found = _inline(li)
        if text:
            items.append(text)
            links += [link for link in found if link.text != text]
            if len(found) == 1 and found[0].text == text:  # a list of links: keep the addresses
                links.append(found[0])
    if items:
        out.append(Element("list", items=items, numbered=numbered))
    out.extend(links)


def _paragraph(child: Any, out: list[Element]) -> None:
    """A paragraph, then its links; a paragraph that is one link alone is that link."""
    text, links = _inline(child)
    if links and len(links) == 1 and links[0].text == text:
        out.extend(links)
    elif text:
        out.append(Element("p", text=text, heading_like=_heading_like(child, text)))
        out.extend(links)


def _box(el) -> bool:
    """A box of running text without <p> ("<div class=alert><b>Attention :</b> …</div>"): one paragraph, not
    one per inline element, so that a callout label keeps its text."""
    return el.tag in ("div", "section", "aside") and bool(clean(el.text_content())) and all(
        d.tag in INLINE or d.tag == "a" for d in el.iterdescendants() if isinstance(d.tag, str))


def _heading_like(p, text: str) -> bool:
    """A short paragraph all in bold: a heading the page did not mark as one."""
    from audioguide.importers.docx import HEADING_LIKE_CHARS

    if len(text) > HEADING_LIKE_CHARS or text.endswith((".", ",", ";", ":")):
        return False
    bold = clean(" ".join(b.text_content() for b in p if isinstance(b.tag, str) and b.tag in ("strong", "b")))
    return bold == text


def _table(table, out: list[Element]) -> None:
    """One paragraph per row; a table inside a cell comes after its row, once (not inside the row's text too)."""
    for row in table.xpath("./tr | ./*/tr"):
        cells: list[str] = []
        nested: list[lhtml.HtmlElement] = []
        for cell in row:
            if isinstance(cell.tag, str):
                cells.append(clean(_text_without_tables(cell, nested)))
        if any(cells):
            out.append(Element("p", text=" ; ".join(c for c in cells if c)))
        for inner in nested:
            _table(inner, out)


def _text_without_tables(cell, nested: list) -> str:
    """CELL's text, leaving out (and collecting in NESTED) the tables inside it."""
    from lxml import etree

    parts = []
    walk = etree.iterwalk(cell, events=("start", "end"))
    for event, el in walk:
        if event == "start":
            if el.tag == "table":
                nested.append(el)
                walk.skip_subtree()
            elif isinstance(el.tag, str):
                parts.append(("" if el.tag in INLINE and el.tag != "br" else " ") + (el.text or ""))
        elif el is not cell:
            parts.append(("" if el.tag in INLINE and el.tag != "br" else " ") + (el.tail or ""))
    return "".join(parts)
