"""kiosk/index.html: one self-contained page that plays the guide offline, with the phone's menu and keys."""

from __future__ import annotations

import html
import json
import re
from importlib.resources import files
from urllib.parse import quote

from audioguide.files import update_bytes
from audioguide.phone.menu import build_menu
from audioguide.publishers import Publisher, downloads
from audioguide.publishers.transcripts import caption_cues

_PLACEHOLDER = re.compile(r"\{\{(TITLE|FOOTER|DOWNLOADS|DATA)\}\}")


def json_for_script(data) -> str:
    """JSON that cannot end its <script> element or open a comment, whatever the guide's text holds."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def kiosk_data(manifest: dict, menu, idle_s: int = 120) -> dict:
    """What the page's script reads: the menus, the chapters with their pages and captions, the idle reset time."""
    chapters = []
    for ch in manifest["chapters"]:
        node = menu.nodes[f"chapter-{ch['id']}"]
        # The read-along shows the captions of the page's text: the written form, timed from the audio.
        captions = caption_cues(page_text(ch["pages"]))
        chapters.append({
            "id": ch["id"], "title": ch["title"], "parent": node.parent,
            "mp3": f"../{ch['mp3']}", "vtt": f"../{ch['transcript']['vtt']}",
            "pages": [{"id": p["id"], "title": p["title"], "start": p["start"], "end": p["end"],
                       "cues": [c for c in captions if _on_page(c, ch["pages"], i)]}
                      for i, p in enumerate(ch["pages"])],
        })
    menus = {n.id: {"title": n.title if n.id != menu.root else "Menu principal", "parent": n.parent,
                    "items": [{"key": i.key, "label": i.label, "target": i.target} for i in n.items]}
             for n in menu.nodes.values() if n.kind == "menu"}
    return {"id": manifest["guide"]["id"], "title": manifest["guide"]["title"], "root": menu.root,
            "menus": menus, "chapters": chapters, "levels": manifest["guide"]["levels"], "idle": idle_s}


def page_text(pages: list[dict]) -> list[dict]:
    """The pages without their end cue ("Fin du sujet.", the guide's end): it is not the page's text, so the
    read-along neither shows nor highlights it while it plays. Left in, a short "Fin du sujet." would also share
    the last sentence's caption, and that sentence would stay highlighted as if still spoken."""
    return [{**p, "cues": [c for c in p["cues"] if c.get("kind") != "cue"]} for p in pages]


def _on_page(cue: dict, pages: list[dict], i: int) -> bool:
    nxt = pages[i + 1]["start"] if i + 1 < len(pages) else float("inf")
    return (i == 0 or cue["start"] >= pages[i]["start"]) and cue["start"] < nxt


def render(manifest: dict, menu, idle_s: int) -> str:
    g = manifest["guide"]
    template = files("audioguide.publishers").joinpath("kiosk_assets/index.html").read_text("utf-8")
    footer = " · ".join(x for x in (g["publisher"], g.get("rights") or "", f"version {g['version']}"
                                    if g.get("version") else "") if x)
    # Markup is escaped; the data goes in as JSON and is only ever put on the page with textContent.
    books = " · ".join(f'<a href="../{html.escape(quote(path))}" download>{html.escape(label)}</a>'
                       for path, label in downloads(manifest))
    values = {"TITLE": html.escape(g["title"]), "FOOTER": html.escape(footer),
              "DOWNLOADS": f'<p class="help" id="downloads">Le guide en livre audio : {books}</p>' if books else "",
              "DATA": json_for_script(kiosk_data(manifest, menu, idle_s))}
    # One pass over the template: a guide text holding "{{DATA}}" is inserted as it is, never substituted again.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


class KioskPublisher(Publisher):
    name = "kiosk"

    def publish(self, result) -> list:
        menu = build_menu(result.guide)
        path = result.out_dir / "kiosk" / "index.html"
        update_bytes(path, render(result.manifest, menu, result.settings.kiosk_idle).encode("utf-8"))
        return [path]
