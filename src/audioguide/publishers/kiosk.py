"""kiosk/index.html: one self-contained page that plays the guide offline, with the phone's menu and keys."""

from __future__ import annotations

import html
import json
import re
from importlib.resources import files
from urllib.parse import quote

from audioguide.guide import CALLOUTS
from audioguide.phone.menu import build_menu
from audioguide.publishers import BuildContext, Publisher, downloads
from audioguide.publishers.book import Block, Book, Clip, Sentence
from audioguide.publishers.book import Chapter as BookChapter

_PLACEHOLDER = re.compile(r"\{\{(TITLE|FOOTER|DOWNLOADS|DATA)\}\}")


def json_for_script(data) -> str:
    """JSON that cannot end its <script> element or open a comment, whatever the guide's text holds."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def kiosk_data(book: Book, menu, idle_s: int = 120) -> dict:
    """What the page's script reads: the menus, the chapters with each page's text, the idle reset time."""
    manifest = book.manifest
    chapters = []
    for ch, entry in zip(book.chapters, manifest["chapters"]):
        node = menu.nodes[f"chapter-{ch.id}"]
        chapters.append({
            "id": ch.id, "title": ch.title, "parent": node.parent,
            "mp3": f"../{entry['mp3']}", "vtt": f"../{entry['transcript']['vtt']}",
            "pages": [{"id": p.id, "title": p.title, "start": p.start, "end": p.end, **read_along(ch, i)}
                      for i, p in enumerate(ch.pages)],
        })
    menus = {n.id: {"title": n.title if n.id != menu.root else "Menu principal", "parent": n.parent,
                    "items": [{"key": i.key, "label": i.label, "target": i.target} for i in n.items]}
             for n in menu.nodes.values() if n.kind == "menu"}
    return {"id": manifest["guide"]["id"], "title": manifest["guide"]["title"], "root": menu.root,
            "menus": menus, "chapters": chapters, "levels": manifest["guide"]["levels"], "idle": idle_s}


def read_along(ch: BookChapter, i: int) -> dict:
    """A page's text as the guide writes it, from the talking book's model (the EPUB's): its blocks, each
    sentence as [start, until, text], and `title`: [start, until] of the spoken frame, shown on the page's title.
    A sentence stays marked until the next one starts, so the mark does not blink off in every pause; the
    page's last one until its speech ends, so that nothing is marked while the end cue ("Fin du sujet.") plays,
    which is not the page's text. Sentences said without a clip of their own are shown unmarked (no times)."""
    page = ch.pages[i]
    heads = [h for h in ((ch.part_heading, ch.heading, page.heading) if i == 0 else (page.heading,)) if h and h.clip]
    spans = [h.clip for h in heads if h.clip]
    items = ([Clip(min(c.start for c in spans), max(c.end for c in spans))] if spans else []) + \
        [s.clip for b in page.blocks for s in _said(b) if s.clip]
    until = {id(c): (nxt.start if nxt else c.end) for c, nxt in zip(items, items[1:] + [None])}

    def times(clip: Clip | None) -> list:
        return [clip.start, until[id(clip)]] if clip else [None, None]

    def sentences(ss: list[Sentence]) -> list[list]:
        return [[*times(s.clip), s.text] for s in ss]

    def block(b: Block) -> dict:
        out: dict = {"kind": b.kind}
        if b.kind == "list":
            out["items"] = [sentences(item) for item in b.items]
        else:
            out["s"] = sentences(b.sentences)
        if b.kind in CALLOUTS:
            out["children"] = [block(c) for c in b.children]
        return out

    return {"said": times(items[0]) if heads else [None, None], "text": [block(b) for b in page.blocks]}


def _said(b: Block):
    """The block's sentences in document order: its own, its list items', its children's."""
    yield from b.sentences
    for item in b.items:
        yield from item
    for c in b.children:
        yield from _said(c)


def render(book: Book, menu, idle_s: int) -> str:
    manifest = book.manifest
    g = manifest["guide"]
    template = files("audioguide.publishers").joinpath("kiosk_assets/index.html").read_text("utf-8")
    footer = " · ".join(x for x in (g["publisher"], g.get("rights") or "", f"version {g['version']}"
                                    if g.get("version") else "") if x)
    # Markup is escaped; the data goes in as JSON and is only ever put on the page with textContent.
    books = " · ".join(f'<a href="../{html.escape(quote(path))}" download>{html.escape(label)}</a>'
                       for path, label in downloads(manifest))
    values = {"TITLE": html.escape(g["title"]), "FOOTER": html.escape(footer),
              "DOWNLOADS": f'<p class="help" id="downloads">Le guide en livre audio : {books}</p>' if books else "",
              "DATA": json_for_script(kiosk_data(book, menu, idle_s))}
    # One pass over the template: a guide text holding "{{DATA}}" is inserted as it is, never substituted again.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


class KioskPublisher(Publisher):
    name = "kiosk"
    after = ("epub", "daisy")  # it offers the talking books for download (manifest "downloads")
    folders = ("kiosk",)

    def entries(self, guide) -> dict:
        return {"kiosk": "kiosk/index.html"}

    def publish(self, result: BuildContext) -> list:
        menu = build_menu(result.guide)
        page = render(Book.from_build(result), menu, result.settings.kiosk_idle)
        result.write("kiosk/index.html", page.encode("utf-8"))
        return [result.out_dir / "kiosk" / "index.html"]
