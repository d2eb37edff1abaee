"""A folder ready to copy to a web host: the build's public files, plain-named MP3 copies, an index page."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

from audioguide.exceptions import AudioguideError
from audioguide.files import atomic_path

_HASHED = re.compile(r"^(?P<stem>.+)\.[0-9a-f]{12}\.mp3$")


def plain_name(name: str) -> str | None:
    """01-intro.6bc3d8efa3f6.mp3 -> 01-intro.mp3 (for people who link or download by hand)."""
    m = _HASHED.match(name)
    return m.group("stem") + ".mp3" if m else None


def export(out_dir: Path, target: Path) -> Path:
    """Copy the public files of a built guide to `target` (made anew), add plain-named MP3 copies beside the
    hashed ones (the feed keeps the hashed names) and an index page naming each output by its use."""
    manifest = out_dir / "manifest.json"
    if not manifest.is_file():
        raise AudioguideError("Le guide n'est pas encore construit : il n'y a rien à publier.",
                              fix="construisez-le d'abord (page « Construire »)")
    m = json.loads(manifest.read_text("utf-8"))
    if target.is_symlink():
        raise AudioguideError(f"{target.name} est un lien : le studio n'écrit pas au travers.",
                              fix="supprimez ce lien")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for src in sorted(out_dir.rglob("*")):
        rel = src.relative_to(out_dir)
        if any(p.startswith(".") for p in rel.parts) or src.is_symlink():
            continue  # build state, lock, temp files
        dst = target / rel
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        plain = plain_name(src.name)
        if plain and not (src.parent / plain).exists():
            shutil.copy2(src, dst.parent / plain)
    with atomic_path(target / "index.html") as part:
        part.write_text(index_page(m), encoding="utf-8")
    return target


def index_page(m: dict) -> str:
    e = html.escape
    g = m["guide"]
    chapters = "\n".join(
        f'<li><a href="{e(c["mp3"])}">{e(c["title"])}</a> '
        f'(<a href="{e(os.path.dirname(c["mp3"]) + "/" + (plain_name(os.path.basename(c["mp3"])) or ""))}" '
        f'download>télécharger</a>)</li>' for c in m["chapters"])
    downloads = m.get("downloads", {})
    whole = m.get("whole", {}).get("mp3", "")
    items = [("Podcast", f'<a href="{e(m.get("feed", "feed.xml"))}">le flux du podcast</a>, à ajouter dans une '
              "application de podcasts"),
             ("Livre audio (EPUB, DAISY)", " ; ".join(
                 f'<a href="{e(d["path"])}" download>{label}</a>' for key, label in
                 (("epub", "livre EPUB 3"), ("daisy", "livre DAISY 2.02 (zip)")) if (d := downloads.get(key)))),
             ("Borne", f'<a href="{e(m.get("kiosk", "kiosk/index.html"))}">la page de la borne</a>'),
             ("Guide entier en MP3", f'<a href="{e(plain_name(whole) or whole)}" download>un seul fichier MP3</a>'),
             ("Texte", f'<a href="{e(m.get("transcript", {}).get("html", "transcript.html"))}">le texte lu</a>')]
    rows = "\n".join(f"<li><strong>{e(name)}</strong> : {body}</li>" for name, body in items)
    return f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(g["title"])}</title>
<link rel="alternate" type="application/rss+xml" title="{e(g["title"])}" href="{e(m.get("feed", "feed.xml"))}">
<style>body{{font:1.15rem/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#111}}
a{{color:#0645ad}}</style></head>
<body><main>
<h1>{e(g["title"])}</h1>
<p>{e(g.get("description", ""))}</p>
<h2>Écouter ou télécharger</h2>
<ul>
{rows}
</ul>
<h2>Les chapitres</h2>
<ol>
{chapters}
</ol>
<p>Publié par {e(g.get("publisher", ""))}.</p>
</main></body>
</html>
"""
