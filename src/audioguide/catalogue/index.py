"""The catalogue's index: index.html (people), catalogue.json (programs), feeds.opml (podcast apps).

Paths are relative to the catalogue's output folder; addresses are absolute from each guide's base URL.
A guide that failed this time but was built before stays listed from its last manifest, marked as such: its
files are still there and still served.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from audioguide.files import update_bytes

FORMAT = 1
INDEX_FILES = ("index.html", "catalogue.json", "feeds.opml")


def entry(folder: str, m: dict) -> dict:
    g = m["guide"]
    e = {"id": g["id"], "title": g["title"], "subtitle": g.get("subtitle") or "", "publisher": g.get("publisher"),
         "language": g.get("language"), "folder": f"{folder}/", "manifest": f"{folder}/manifest.json",
         "base_url": g.get("base_url"), "chapters": len(m.get("chapters", [])),
         "duration": round(sum(c["duration"] for c in m.get("chapters", [])), 3)}
    if m.get("feed"):
        e["feed"] = f"{folder}/{m['feed']}"
        e["feed_url"] = (g.get("base_url") or "") + m["feed"]
    if m.get("kiosk"):
        e["kiosk"] = f"{folder}/{m['kiosk']}"
    if m.get("phone"):
        e["phone"] = {k: f"{folder}/{v}" for k, v in m["phone"].items()}
    for name, d in sorted(m.get("downloads", {}).items()):  # the books: EPUB 3, DAISY 2.02
        e[name] = f"{folder}/{d['path']}"
    if m.get("whole"):
        e["whole_mp3"] = f"{folder}/{m['whole']['mp3']}"
    return e


def catalogue_json(result) -> dict:
    guides, failed = [], []
    built = {o.id for o in result.outcomes if not o.error}
    for o in result.outcomes:
        m = o.manifest
        if o.error:
            failed.append({"source": str(o.source), "id": o.id, "error": o.error})
            # A second guide with a built guide's id: that folder is the built one's, not a last build of its own.
            old = result.out_dir / o.id / "manifest.json" if o.id and o.id not in built else None
            if old and old.exists():
                try:
                    m = json.loads(old.read_text("utf-8"))
                except (OSError, ValueError):
                    m = None
            if m:
                guides.append({**entry(o.id, m), "last_build_failed": True})
        elif m:
            guides.append(entry(o.id, m))
    guides.sort(key=lambda e: e["id"])
    return {"format": FORMAT, "title": result.catalogue.title, "guides": guides, "failed": failed}


def index_html(data: dict) -> bytes:
    esc = html.escape
    items = []
    for e in data["guides"]:
        links = [(e.get("kiosk"), "Écouter dans le navigateur"), (e.get("feed"), "S'abonner (podcast)"),
                 (e.get("whole_mp3"), "Tout le guide en un fichier MP3"), (e.get("epub"), "Livre EPUB 3"),
                 (e.get("daisy"), "Livre DAISY 2.02"), ((e.get("phone") or {}).get("readme"), "Serveur vocal")]
        li = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for href, text in links if href)
        minutes = round(e["duration"] / 60)
        note = " (dernière construction en échec : version précédente)" if e.get("last_build_failed") else ""
        items.append(f'<li><h2>{esc(e["title"])}</h2>'
                     + (f"<p>{esc(e['subtitle'])}</p>" if e["subtitle"] else "")
                     + f"<p>{e['chapters']} chapitres, environ {minutes} minutes{esc(note)}.</p>"
                     + f"<ul>{li}</ul></li>")
    title = esc(data["title"])
    page = (f'<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>\n<body><main><h1>{title}</h1>\n"
            f'<p><a href="feeds.opml">Tous les podcasts (OPML)</a></p>\n<ul>\n' + "\n".join(items)
            + "\n</ul></main></body>\n</html>\n")
    return page.encode("utf-8")


def feeds_opml(data: dict) -> bytes:
    from lxml import etree

    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = data["title"]
    body = etree.SubElement(root, "body")
    for e in data["guides"]:
        if e.get("feed_url"):
            etree.SubElement(body, "outline", type="rss", text=e["title"], title=e["title"], xmlUrl=e["feed_url"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_index(result) -> list[Path]:
    data = catalogue_json(result)
    out = result.out_dir
    out.mkdir(parents=True, exist_ok=True)
    files = {"catalogue.json": (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(),
             "feeds.opml": feeds_opml(data), "index.html": index_html(data)}
    for name, blob in files.items():
        update_bytes(out / name, blob)
    return [out / n for n in files]
