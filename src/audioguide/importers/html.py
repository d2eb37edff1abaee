"""Saved web pages, read with lxml: the main content is found; menus, footers and cookie banners are dropped."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import html as lhtml

from audioguide.exceptions import AudioguideError
from audioguide.importers import Document, Element, clean

DROP_TAGS = ("script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form", "button",
             "iframe", "svg", "dialog", "select")
DROP_ROLES = ("navigation", "banner", "contentinfo", "search", "dialog", "alertdialog", "complementary")
# Class or id words of page furniture, as site builders and consent tools name it.
_FURNITURE = re.compile(r"(?:^|[\s_-])(cookie|cookies|consent|gdpr|rgpd|tarteaucitron|didomi|onetrust|banner|"
                        r"navbar|nav|menu|breadcrumbs?|fil-ariane|footer|header|sidebar|share|social|newsletter|"
                        r"skip|pagination|related|popup|modal)(?:$|[\s_-])", re.IGNORECASE)


def read_html(path: Path) -> Document:
    raw = path.read_bytes()
    try:  # browsers save UTF-8 today; older pages are Windows-1252 (lxml alone assumes Latin-1 without <meta>)
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        root = lhtml.document_fromstring(text)
    except (ValueError, lhtml.etree.ParserError) as exc:
        raise AudioguideError(f"Cannot read {path.name} as a web page ({exc}).",
                              fix="save the page again from the browser (File > Save as > Web page, HTML only)")
    notes: list[str] = []
    title = clean(" ".join(root.xpath("//head/title//text()")))
    meta_date = root.xpath("//meta[@property='article:modified_time' or @property='article:published_time' "
                           "or @name='date' or @name='dcterms.modified']/@content")
    dropped = 0
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        words = f"{el.get('class', '')} {el.get('id', '')}"
        if el.tag in DROP_TAGS or el.get("role") in DROP_ROLES or el.get("aria-hidden") == "true" \
                or el.get("hidden") is not None \
                or (el.tag not in ("main", "article", "body") and _FURNITURE.search(words)):
            el.drop_tree()
            dropped += 1
    main = _main(root)
    if dropped:
        notes.append(f"Dropped {dropped} menus, headers, footers, banners and scripts of the web page.")
    elements: list[Element] = []
    _walk(main, elements)
    h1 = [e.text for e in elements if e.kind == "heading" and e.level == 1]
    if len(h1) == 1:
        title = h1[0]
    date = None
    if meta_date:
        import datetime as dt

        try:
            date = dt.date.fromisoformat(meta_date[0][:10])
        except ValueError:
            pass
    return Document(elements, title=title, date=date, notes=notes)


def _main(root):
    """<main>, role=main or the only <article>; else the element holding the most paragraph text."""
    for query in ("//main", "//*[@role='main']", "//article"):
        found = root.xpath(query)
        if len(found) == 1:
            return found[0]
    best, best_len = root, 0
    for el in root.iter("div", "section"):
        n = sum(len(p.text_content()) for p in el.iter("p", "li"))
        # The deepest container with most of the text, not the <body> wrapping it all.
        if n > best_len * 1.2 or (n >= best_len * 0.8 and best in el.iterancestors()):
            best, best_len = el, n
    return best


def _inline(el) -> tuple[str, list[Element]]:
    links = [Element("link", text=clean(a.text_content()) or a.get("href"), url=a.get("href"))
             for a in el.iter("a") if (a.get("href") or "").startswith(("http://", "https://", "mailto:", "tel:"))]
    return clean(el.text_content()), links


INLINE = {"span", "strong", "em", "b", "i", "small", "mark", "abbr", "time", "font", "u", "sup", "sub", "br"}


def _walk(el, out: list[Element]) -> None:
    # Text written straight into a <div>, without <p>, is a paragraph too.
    if clean(el.text or ""):
        out.append(Element("p", text=clean(el.text)))
    for child in el:
        _child(child, out)
        if clean(child.tail or ""):
            out.append(Element("p", text=clean(child.tail)))


def _child(child, out: list[Element]) -> None:
    if not isinstance(child.tag, str):
        return
    tag = child.tag.lower()
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        text = clean(child.text_content())
        if text:
            out.append(Element("heading", text=text, level=int(tag[1])))
    elif tag in ("ul", "ol"):
        items, links = [], []
        for li in child.iterchildren("li"):
            text, found = _inline(li)
            if text:
                items.append(text)
                links += [link for link in found if link.text != text]
                if len(found) == 1 and found[0].text == text:  # a list of links: keep the addresses
                    links.append(found[0])
        if items:
            out.append(Element("list", items=items))
        out.extend(links)
    elif tag in ("p", "blockquote", "pre", "dd", "dt", "figcaption"):
        text, links = _inline(child)
        if links and len(links) == 1 and links[0].text == text:
            out.extend(links)
        elif text:
            out.append(Element("p", text=text))
            out.extend(links)
    elif tag == "table":
        for row in child.iter("tr"):
            cells = [clean(c.text_content()) for c in row if isinstance(c.tag, str)]
            if any(cells):
                out.append(Element("p", text=" ; ".join(c for c in cells if c)))
    elif tag == "a" and child.get("href", "").startswith(("http://", "https://")):
        text, links = _inline(child)
        out.extend(links)
    elif tag in INLINE:
        if clean(child.text_content()):
            out.append(Element("p", text=clean(child.text_content())))
    else:
        _walk(child, out)
