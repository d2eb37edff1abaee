"""PDF documents, read with pdfplumber: headings from the bookmarks, else from font sizes; running headers,
page numbers and navigation links ("Précédent", "Suivant", "retour au menu"…) are removed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audioguide.exceptions import AudioguideError
from audioguide.guide.markdown import fold
from audioguide.i18n import N_, _
from audioguide.importers import Document, Element, clean

# Interactive PDFs (the e-santé export among them) repeat these buttons on every page.
NAVIGATION = {"precedent", "suivant", "page precedente", "page suivante", "retour au menu", "retour au sommaire",
              "en savoir plus", "sommaire", "menu", "haut de page", "retour", "accueil", "previous", "next"}
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|sur|of)\s*\d{1,4})?$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[•●▪■◦–\-*]|\d{1,2}[.)])\s+")


# The PDF is read in a child process under these caps: pdfminer inflates each stream whole and keeps every
# character of a page as an object, so a 21 KB file can ask for gigabytes (a Flate bomb, or one drawing
# repeated a million times). Pages are freed one by one: an ordinary 200-page PDF needs 55 MB, 1.2 GB when
# all pages were kept (bench/import_pdf.py).
MEMORY_LIMIT = 1_000_000_000
CPU_SECONDS = 600
MAX_PAGES = 3_000
# pdfminer writes a glyph its font cannot map to a character as "(cid:123)": never text to read aloud.
_CID = re.compile(r"\(cid:\d+\)")


def read_pdf(path: Path) -> Document:
    try:
        import pdfplumber  # noqa: F401  (checked here, used by the child process)
    except ImportError:
        raise AudioguideError(_("Importing PDFs needs pdfplumber."),
                              fix=_("install it: pip install 'audioguide[import]'")) from None
    pages, outline, meta, cids, images = _run_reader(path)
    notes = _image_notes(images) + _cid_notes(cids)
    pages, removed = _drop_furniture(pages)
    notes += removed
    lines = [ln for page in pages for ln in page]
    level_of = _outline_levels(outline, notes) if outline else _font_levels(lines, notes)
    elements: list[Element] = []
    prev = None
    for ln in lines:
        level = level_of(ln)
        if level:
            _add_heading(elements, prev, ln, level, two_lines=not outline)
        elif m := _BULLET.match(ln["text"]):
            _add_item(elements, prev, ln, m)
        elif elements and elements[-1].kind in ("p", "list") and prev and _close(prev, ln) and not level_of(prev):
            _continue(elements[-1], ln)
        else:
            elements.append(Element("p", text=ln["text"], heading_like=ln["bold"] and len(ln["text"]) <= 90
                                    and not ln["text"].endswith((".", ",", ";", ":"))))
        prev = ln
    title = clean(str(meta.get("Title", "") or ""))
    date = _pdf_date(meta.get("ModDate") or meta.get("CreationDate"))
    return Document(elements, title=title, date=date, notes=notes)


def _image_notes(images: list[list[Any]]) -> list[str]:
    """Each image's alternative text offered as a sentence; one line for all the images without one."""
    notes: list[str] = []
    for page, _count, alts in images:
        notes += [_("Image {near} not carried over. Its alternative text can become a sentence of the draft: "
                    "« Image : {alt}. »").format(near=_("page {page}").format(page=page), alt=alt.rstrip('.'))
                  for alt in alts]
    bare = [(page, count - len(alts)) for page, count, alts in images if count > len(alts)]
    if bare:  # one line for them all: a logo on each of 300 pages is not 300 lines
        where = ", ".join(str(page) for page, _n in bare[:20]) + (", …" if len(bare) > 20 else "")
        notes.append(_("{n} image(s) without alternative text not carried over, page(s) {where}: if one gives "
                       "information, write it as a sentence in the draft.").format(
                           n=sum(n for _page, n in bare), where=where))
    return notes


def _cid_notes(cids: int) -> list[str]:
    if not cids:
        return []
    return [_("{n} character(s) left out: the PDF's fonts link them to no letter (« (cid:N) » from pdfminer). "
              "Compare the draft with the PDF, and export the original document again if words are missing.")
            .format(n=cids)]


def _outline_levels(outline: list[tuple[str, int]], notes: list[str]) -> Callable[[dict[str, Any]], int | None]:
    """A line's heading level from the PDF's bookmarks."""
    notes.append(f"Les titres viennent des {len(outline)} signets du PDF.")
    headings = {fold(t): lvl for t, lvl in outline}
    return lambda ln: headings.get(fold(ln["text"]))


def _add_heading(elements: list[Element], prev: dict[str, Any] | None, ln: dict[str, Any], level: int,
                 two_lines: bool) -> None:
    """A heading; with font-size levels, a title on two lines is one heading."""
    if elements and elements[-1].kind == "heading" and elements[-1].level == level and prev and \
            _close(prev, ln) and two_lines:
        elements[-1].text += " " + ln["text"]
    else:
        elements.append(Element("heading", text=ln["text"], level=level))


def _add_item(elements: list[Element], prev: dict[str, Any] | None, ln: dict[str, Any], m: re.Match[str]) -> None:
    item, numbered = ln["text"][m.end():], m.group().strip()[:1].isdigit()
    # Bullets are often spaced apart: any bullet right after a list item continues the list.
    if elements and elements[-1].kind == "list" and prev and abs(prev["size"] - ln["size"]) < 0.5 \
            and elements[-1].numbered == numbered:
        elements[-1].items.append(item)
    else:
        elements.append(Element("list", items=[item], numbered=numbered))


def _continue(last: Element, ln: dict[str, Any]) -> None:
    """The next line of a paragraph or of a list's last item."""
    if last.kind == "list":
        last.items[-1] = _join(last.items[-1], ln["text"])
    else:
        last.text = _join(last.text, ln["text"])
        last.heading_like = False  # more than one line


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
        return [(clean(title), level) for level, title, *_rest in pdf.doc.get_outlines() if clean(title or "")]
    except Exception:  # pdfminer raises PDFNoOutlines, and others on odd files: then font sizes decide
        return []


def _drop_furniture(pages: list[list[dict]]) -> tuple[list[list[dict]], list[str]]:
    """Remove page numbers, navigation buttons and lines repeated at the same place on most pages."""
    notes = []
    key = lambda ln: (re.sub(r"\d+", "#", fold(ln["text"])), round(ln["top"] / 5))  # noqa: E731
    seen = Counter(k for page in pages for k in {key(ln) for ln in page})
    repeated = {k for k, n in seen.items() if len(pages) >= 2 and n >= max(2, len(pages) * 0.6)}
    counts: Counter[str] = Counter()
    running: dict[str, None] = {}
    out = []
    for page in pages:
        kept = []
        for ln in page:
            folded = fold(ln["text"])
            if _PAGE_NUMBER.match(ln["text"]):
                counts[N_("page number(s)")] += 1
            elif folded in NAVIGATION or all(w in NAVIGATION for w in _nav_words(folded)) or _button(folded):
                counts[N_("navigation link(s)")] += 1
            elif key(ln) in repeated:
                counts[N_("repeated header(s) and footer(s)")] += 1
                running.setdefault(ln["text"], None)
            else:
                kept.append(ln)
        out.append(kept)
    if counts:
        notes.append(_("Removed: {what}.").format(what=", ".join(f"{n} {_(what)}" for what, n in counts.items())))
    if running:
        notes.append(_("Headers and footers repeated on the pages, not carried over: {texts}.").format(
            texts=", ".join(f"« {t[:60]} »" for t in list(running)[:10])))
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
    weight: Counter[float] = Counter()
    for ln in lines:
        weight[ln["size"]] += len(ln["text"])
    body = weight.most_common(1)[0][0]
    bigger = sorted({ln["size"] for ln in lines if ln["size"] > body * 1.12}, reverse=True)[:3]
    levels = {size: i for i, size in enumerate(bigger, 1)}
    if bigger:
        notes.append(_("No bookmarks: headings guessed from the size of the characters ({sizes}; body text {body} "
                       "pt).").format(sizes=", ".join(f"{s:g} pt" for s in bigger), body=f"{body:g}"))
    else:
        notes.append(_("No bookmarks and a single character size: no heading found."))
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


def _run_reader(path: Path) -> tuple[list[list[dict]], list[tuple[str, int]], dict, int, list[list]]:
    """The lines of each page, the bookmarks, the metadata, the number of unmapped glyphs and the images
    ([page, count, alt texts] for each page that has some), read by
    a child Python process (_extract) under MEMORY_LIMIT and CPU_SECONDS."""
    # -P: a folder named audioguide in the current directory must not shadow the package.
    proc = subprocess.run([sys.executable, "-P", "-c", _CHILD, str(path)], capture_output=True)
    limit = _memory_limit()
    if proc.returncode == 0:
        result = json.loads(proc.stdout)
        return (result["pages"], [tuple(o) for o in result["outline"]], result["meta"], result["cids"],
                result["images"])
    if proc.returncode == _DAMAGED:
        raise AudioguideError(_("Cannot read {name} as a PDF ({error}).").format(
                                  name=path.name, error=proc.stdout.decode().strip()),
                              cause=_("the file is damaged, or protected by a password"),
                              fix=_("open it in a PDF reader and print it again to a new PDF"))
    if proc.returncode == _TOO_MANY_PAGES:
        raise AudioguideError(_("{name} has {count} pages: the import reads {limit} pages at most.").format(
                                  name=path.name, count=proc.stdout.decode().strip(), limit=MAX_PAGES),
                              fix=_("cut the document into several PDFs, one per guide"))
    fix = _("print it again to PDF from a PDF reader, or import the original document (.docx); if it really is "
            "that heavy, cut it into several PDFs")
    # Any signal but the CPU limit's: killed for want of memory (-9), Python aborting on a MemoryError it could
    # not raise (-6), a library not checking that malloc failed (-11).
    if proc.returncode == _OUT_OF_MEMORY or proc.returncode < 0 and proc.returncode != -24 \
            or b"MemoryError" in proc.stderr:
        raise AudioguideError(_("{name}: reading this PDF needs more than {mb} MB of memory, the import's "
                                "limit.").format(name=path.name, mb=limit // 1_000_000),
                              cause=_("the PDF is damaged, or made on purpose to fill the memory (a “bomb”)"),
                              fix=fix)
    if proc.returncode == -24:  # SIGXCPU
        raise AudioguideError(_("{name}: reading this PDF needs more than {seconds} seconds of computing, the "
                                "import's limit.").format(name=path.name, seconds=CPU_SECONDS),
                              cause=_("the PDF is damaged, or made on purpose never to end"), fix=fix)
    raise RuntimeError(f"the PDF reader stopped with code {proc.returncode}:\n"
                       + proc.stderr.decode(errors="replace")[-4000:])


_DAMAGED, _TOO_MANY_PAGES, _OUT_OF_MEMORY = 11, 12, 13
# The child imports this module by its name: `-m` would run a second copy of it as __main__, which mutation
# testing's stand-ins never reach (tests/test_import_pdf_reader.py).
_CHILD = "import sys\nfrom audioguide.importers.pdf import _extract\nsys.exit(_extract(sys.argv[1]))"


def _memory_limit() -> int:
    import resource

    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return MEMORY_LIMIT if soft == resource.RLIM_INFINITY else min(MEMORY_LIMIT, soft)


def _near(limit: int) -> bool:
    """This process came within 64 MB of its address-space LIMIT (Linux's VmPeak)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    m = re.search(r"^VmPeak:\s*(\d+) kB", status, re.MULTILINE)
    return m is not None and int(m.group(1)) * 1024 > limit - 64_000_000


def _reraise_memory_error(exc: Exception) -> None:
    """pdfplumber wraps every error of pdfminer's, MemoryError too, in its PdfminerException."""
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    if isinstance(cause, MemoryError):
        raise cause from None


def _alt_texts(page) -> list[str]:
    """The alt texts of a tagged PDF's figures on PAGE (none for an untagged PDF)."""
    try:
        stack, out = list(page.structure_tree), []
    except Exception:  # noqa: BLE001  (a damaged structure tree: the images are still counted)
        return []
    while stack:
        el = stack.pop(0)
        if el.get("type") == "Figure" and clean(el.get("alt_text") or ""):
            out.append(clean(el["alt_text"]))
        stack[:0] = el.get("children", [])
    return out


def _extract(path: str) -> int:
    """The child process: one page at a time, each page's objects freed before the next."""
    import resource

    limit = _memory_limit()
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    cpu = resource.getrlimit(resource.RLIMIT_CPU)
    if cpu[0] == resource.RLIM_INFINITY or cpu[0] > CPU_SECONDS:
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, cpu[1]))
    try:
        import pdfplumber

        try:
            pdf = pdfplumber.open(path)
        except Exception as exc:  # pdfminer raises many kinds for a damaged or encrypted file
            _reraise_memory_error(exc)
            print(exc.__class__.__name__)
            return _OUT_OF_MEMORY if _near(limit) else _DAMAGED
        with pdf:
            if len(pdf.pages) > MAX_PAGES:
                print(len(pdf.pages))
                return _TOO_MANY_PAGES
            pages, cids, images = [], 0, []
            try:
                for number, page in enumerate(pdf.pages, 1):
                    if page.images:
                        images.append([number, len(page.images), _alt_texts(page)])
                    lines = []
                    for ln in page.extract_text_lines(return_chars=True):
                        text, n = _CID.subn("", ln["text"])
                        cids += n
                        if clean(text):
                            lines.append(_line({**ln, "text": text}))
                    pages.append(lines)
                    page.close()
            except Exception as exc:  # a damaged page: pdfminer's own errors; anything else is a bug of ours
                _reraise_memory_error(exc)
                if _near(limit):  # a MemoryError that pdfminer caught and turned into another error
                    return _OUT_OF_MEMORY
                if not type(exc).__module__.startswith(("pdfminer", "pdfplumber")):
                    raise
                print(exc.__class__.__name__)
                return _DAMAGED
            outline = _outline(pdf)
            meta = {k: str(v) for k, v in (pdf.metadata or {}).items() if k in ("Title", "ModDate", "CreationDate")}
        print(json.dumps({"pages": pages, "outline": outline, "meta": meta, "cids": cids, "images": images}))
        return 0
    except MemoryError:
        return _OUT_OF_MEMORY

