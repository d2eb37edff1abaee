"""<guide-id>.epub: an EPUB 3 talking book with Media Overlays, for Thorium, EasyReader, VoiceDream…

One XHTML document per chapter holds the written text (headings for parts, chapters and pages, lists as
lists, an id on every sentence), and one SMIL overlay per chapter pairs each sentence with its clip in the
chapter's published MP3, which the EPUB carries as is (no second encode). The navigation document lists
parts, chapters and pages; the package carries the cover and the accessibility metadata.

Two builds give the same bytes: files in a fixed order with a fixed date, `mimetype` first and stored, no
build time anywhere (dcterms:modified is the guide's date).
"""

from __future__ import annotations

import hashlib
import html
import shutil
import uuid
import zipfile
from itertools import groupby
from pathlib import Path

from audioguide.exceptions import PublishError
from audioguide.files import atomic_path, digest, matches
from audioguide.narration.written import written_form
from audioguide.publishers import BuildContext, Published, Publisher
from audioguide.publishers.book import Book, Chapter, chapter_body, well_formed

ACTIVE_CLASS = "-epub-media-overlay-active"
CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"
XHTML_NS = 'xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"'
CSS = f"""body {{ font-family: "DejaVu Sans", Verdana, Arial, sans-serif; line-height: 1.5; }}
.callout {{ border-left: 0.4em solid; padding-left: 1em; margin: 1em 0; }}
.{ACTIVE_CLASS} {{ background-color: #ffeb3b; color: #000; }}
"""
CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""
# What marks this file as written from these inputs (zip comment): a rebuild with the same key keeps it.
KEY_PREFIX = b"audioguide-epub:"


def _x(text: str) -> str:
    return html.escape(text, quote=False)


def _a(text: str) -> str:
    return html.escape(text, quote=True)


def clock(seconds: float) -> str:
    """SMIL full clock value, to the millisecond: 0:01:02.345."""
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    return f"{h}:{m:02d}:{ms / 1000:06.3f}"


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _names(ch: Chapter) -> tuple[str, str, str]:
    """The chapter's content document, overlay and audio, relative to the package document."""
    return f"{ch.slug}.xhtml", f"{ch.slug}.smil", f"audio/{ch.slug}.mp3"


def content_document(book: Book, ch: Chapter) -> str:
    lang = _a(book.guide.language or "fr")
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>', "<!DOCTYPE html>",
        f'<html {XHTML_NS} lang="{lang}" xml:lang="{lang}">',
        "<head>", '<meta charset="UTF-8"/>', f"<title>{_x(written_form(ch.title))}</title>",
        '<link rel="stylesheet" type="text/css" href="style.css"/>', "</head>",
        "<body>", *chapter_body(ch), "</body>", "</html>", ""])


def overlay(ch: Chapter) -> str:
    xhtml, _, mp3 = _names(ch)
    pars = [f'<par id="par-{n}"><text src="{xhtml}#{item.id}"/>'
            f'<audio src="{mp3}" clipBegin="{clock(b)}" clipEnd="{clock(e)}"/></par>'
            for n, (item, b, e) in enumerate(ch.playback(), 1)]
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">',
        "<body>", f'<seq id="seq-1" epub:textref="{xhtml}">', *pars, "</seq>", "</body>", "</smil>", ""])


def overlay_ms(ch: Chapter) -> int:
    """What the overlay plays: its clips, end to end."""
    return sum(_ms(e) - _ms(b) for _, b, e in ch.playback())


def nav_document(book: Book) -> str:
    def link(ch: Chapter, anchor: str, text: str) -> str:
        return f'<a href="{_names(ch)[0]}#{anchor}">{_x(text)}</a>'

    def entry(ch: Chapter) -> list[str]:
        pages = [f"<li>{link(ch, p.heading.id, p.heading.text)}</li>" for p in ch.pages]
        return [f"<li>{link(ch, ch.heading.id, ch.heading.text)}", "<ol>", *pages, "</ol>", "</li>"]

    lines = []
    for part, group in groupby(book.chapters, key=lambda c: c.part["id"] if c.part else None):
        members = list(group)
        chapters = [line for ch in members for line in entry(ch)]
        head = members[0].part_heading
        if part is None or head is None:
            lines += chapters
        else:
            lines += [f"<li>{link(members[0], head.id, head.text)}", "<ol>", *chapters, "</ol>", "</li>"]
    first = _names(book.chapters[0])[0]
    lang = _a(book.guide.language or "fr")
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>', "<!DOCTYPE html>",
        f'<html {XHTML_NS} lang="{lang}" xml:lang="{lang}">',
        "<head>", '<meta charset="UTF-8"/>', f"<title>{_x(written_form(book.guide.title))} — sommaire</title>",
        '<link rel="stylesheet" type="text/css" href="style.css"/>', "</head>", "<body>",
        '<nav epub:type="toc" role="doc-toc" id="toc" aria-labelledby="toc-title">',
        '<h1 id="toc-title">Sommaire</h1>', "<ol>", *lines, "</ol>", "</nav>",
        '<nav epub:type="landmarks" id="landmarks" aria-labelledby="landmarks-title" hidden="hidden">',
        '<h2 id="landmarks-title">Repères</h2>', "<ol>",
        '<li><a epub:type="toc" href="nav.xhtml#toc">Sommaire</a></li>',
        f'<li><a epub:type="bodymatter" href="{first}">Début du guide</a></li>',
        "</ol>", "</nav>", "</body>", "</html>", ""])


def book_id(book: Book) -> str:
    """Stable across builds and versions of the guide: a UUIDv5 of the guide's id."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'urn:audioguide:' + book.guide.id)}"


def summary(book: Book) -> str:
    engine = book.manifest.get("engine", {}).get("name", "")
    return ("Livre audio synchronisé : chaque phrase du texte est lue par une voix de synthèse"
            + (f" ({engine})" if engine else "") + " et mise en évidence pendant sa lecture. Des titres "
            "marquent les parties, les sujets et les pages, et le sommaire y mène directement. Le texte peut être "
            "agrandi et lu par un lecteur d'écran. Les adresses web sont écrites en entier ; la voix n'en dit que "
            "le nom du site. Aucune image ne porte d'information, hormis la couverture, qui reprend le titre.")


def package_document(book: Book) -> str:
    g = book.guide
    lang = g.language or "fr"
    assert g.date is not None  # load_guide sets it
    date = g.date.isoformat()
    meta = [
        f'<dc:identifier id="uid">{book_id(book)}</dc:identifier>',
        f"<dc:title>{_x(written_form(g.title))}</dc:title>",
        f"<dc:language>{_x(lang)}</dc:language>",
        f"<dc:creator>{_x(g.author or g.publisher or g.title)}</dc:creator>",
        *([f"<dc:publisher>{_x(g.publisher)}</dc:publisher>"] if g.publisher else []),
        f"<dc:date>{date}</dc:date>",
        *([f"<dc:description>{_x(written_form(g.description))}</dc:description>"] if g.description else []),
        *([f"<dc:rights>{_x(written_form(g.rights))}</dc:rights>"] if g.rights else []),
        f'<meta property="dcterms:modified">{date}T00:00:00Z</meta>',
        f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>',
    ]
    engine = book.manifest.get("engine", {})
    if engine.get("name"):
        voice = f", voix {engine['voice']}" if engine.get("voice") else ""
        narrator = f"Synthèse vocale {engine['name']}{voice}"
        meta.append(f'<meta property="media:narrator">{_x(narrator)}</meta>')
    total = 0
    for ch in book.chapters:
        ms = overlay_ms(ch)
        total += ms
        meta.append(f'<meta property="media:duration" refines="#mo-{ch.slug}">{clock(ms / 1000)}</meta>')
    meta.append(f'<meta property="media:duration">{clock(total / 1000)}</meta>')
    meta += [f'<meta property="schema:accessMode">{m}</meta>' for m in ("textual", "auditory", "visual")]
    meta += [f'<meta property="schema:accessModeSufficient">{m}</meta>' for m in ("textual", "textual,auditory")]
    meta += [f'<meta property="schema:accessibilityFeature">{f}</meta>'
             for f in ("synchronizedAudioText", "structuralNavigation", "tableOfContents", "readingOrder",
                       "alternativeText", "displayTransformability")]
    meta += ['<meta property="schema:accessibilityHazard">none</meta>',
             f'<meta property="schema:accessibilitySummary">{_x(summary(book))}</meta>',
             f'<meta property="dcterms:conformsTo">{CONFORMANCE}</meta>']
    items = ['<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
             '<item id="css" href="style.css" media-type="text/css"/>',
             '<item id="cover" href="cover.jpg" media-type="image/jpeg" properties="cover-image"/>']
    for ch in book.chapters:
        xhtml, smil, mp3 = _names(ch)
        items += [f'<item id="x-{ch.slug}" href="{xhtml}" media-type="application/xhtml+xml" '
                  f'media-overlay="mo-{ch.slug}"/>',
                  f'<item id="mo-{ch.slug}" href="{smil}" media-type="application/smil+xml"/>',
                  f'<item id="a-{ch.slug}" href="{mp3}" media-type="audio/mpeg"/>']
    # The table of contents is in the spine, for the landmark that points at it, but out of the reading flow:
    # reading starts with the guide, and its audio.
    spine = [f'<itemref idref="x-{ch.slug}"/>' for ch in book.chapters] + ['<itemref idref="nav" linear="no"/>']
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="{_a(lang)}">',
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">', *meta, "</metadata>",
        "<manifest>", *items, "</manifest>", "<spine>", *spine, "</spine>", "</package>", ""])


def text_files(book: Book) -> dict[str, bytes]:
    """Every file of the EPUB but the cover and the audio, by its path in the zip."""
    files = {"mimetype": b"application/epub+zip", "META-INF/container.xml": CONTAINER.encode(),
             "EPUB/package.opf": package_document(book).encode(), "EPUB/nav.xhtml": nav_document(book).encode(),
             "EPUB/style.css": CSS.encode()}
    for ch in book.chapters:
        xhtml, smil, _ = _names(ch)
        files[f"EPUB/{xhtml}"] = content_document(book, ch).encode()
        files[f"EPUB/{smil}"] = overlay(ch).encode()
    return well_formed(files, "EPUB")


def _info(name: str, date: tuple, compress: bool) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=date)
    zi.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    zi.create_system = 3  # the same bytes whatever system builds it
    zi.external_attr = 0o644 << 16
    return zi


def write_epub(path: Path, book: Book, out_dir: Path, key: str, files: dict[str, bytes] | None = None) -> None:
    g = book.guide
    assert g.date is not None  # load_guide sets it
    date = (min(max(g.date.year, 1980), 2107), g.date.month, g.date.day, 0, 0, 0)
    files = files or text_files(book)
    sources = [(f"EPUB/{_names(ch)[2]}", out_dir / ch.mp3) for ch in book.chapters]
    sources.insert(0, ("EPUB/cover.jpg", out_dir / book.manifest.get("cover", "cover.jpg")))
    missing = [str(src) for _, src in sources if not src.is_file()]
    if missing:
        raise PublishError(f"EPUB {path}: cannot find {', '.join(missing)}.",
                           cause="a file of the build was removed while it ran, or the build state is stale",
                           fix="build again with --clean")
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.comment = KEY_PREFIX + key.encode()
            for name, data in files.items():
                zf.writestr(_info(name, date, name != "mimetype"), data)
            for name, src in sources:
                zi = _info(name, date, False)  # JPEG and MP3 are compressed already
                zi.file_size = src.stat().st_size
                with open(src, "rb") as fh, zf.open(zi, "w") as dst:
                    shutil.copyfileobj(fh, dst, 1 << 20)


def _comment(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.comment
    except (OSError, zipfile.BadZipFile):
        return b""


class EpubPublisher(Publisher):
    name = "epub"

    def publish(self, result: BuildContext) -> Published:
        book = Book.from_build(result)
        path = result.out_dir / f"{result.guide.id}.epub"
        # The key covers every input, so an unchanged guide keeps its EPUB without reading 30 MB of audio.
        h = hashlib.sha256()
        files = text_files(book)
        for name, data in files.items():
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        for ch in book.chapters:
            h.update(ch.sha256.encode())
        h.update(digest(result.out_dir / result.manifest.get("cover", "cover.jpg")).encode())
        key = h.hexdigest()
        old = _previous(result.previous_entries()).get(path.name, {})
        if not (_comment(path) == KEY_PREFIX + key.encode() and matches(path, old.get("sha256", ""))):
            write_epub(path, book, result.out_dir, key, files)
        entry = {"path": path.name, "bytes": path.stat().st_size, "sha256": digest(path),
                 "media_type": "application/epub+zip"}
        return Published([path], {"downloads": {"epub": entry}})


def _previous(manifest: dict) -> dict:
    """The previous build's downloads, by file name."""
    try:
        return {d["path"]: d for d in manifest.get("downloads", {}).values() if isinstance(d, dict)}
    except (AttributeError, KeyError, TypeError):
        return {}
