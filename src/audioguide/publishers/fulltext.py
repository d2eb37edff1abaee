"""transcript.txt and transcript.html: the whole guide as written, for printing and for screen readers.

Built from the guide itself, not from the narration: headings for parts, chapters and pages, lists as lists,
links as links, numbers, addresses and acronyms as the guide writes them. The HTML is also the source of each
podcast episode's show notes.
"""

from __future__ import annotations

import html
import re

from audioguide.guide import CALLOUTS, Block, Chapter, Guide, Page
from audioguide.narration.inline import display_url
from audioguide.narration.inline import href as _href
from audioguide.narration.inline import to_html as inline_html
from audioguide.narration.written import written_form
from audioguide.publishers import BuildContext, Publisher

TXT, HTML = "transcript.txt", "transcript.html"


def part_heading(guide: Guide, chapter: Chapter) -> str:
    # Named as the guide names its parts (`levels:`), as the audio, the phone and the kiosk say it.
    return f"{guide.levels.part.title} {chapter.part.number} – {chapter.part.title}" if chapter.part else ""


# --- plain text ----------------------------------------------------------------------------------

def _block_lines(b: Block) -> list[str]:
    if b.kind == "p":
        return [written_form(b.text), ""]
    if b.kind == "heading":
        return [written_form(b.text), ""]
    if b.kind == "list":
        return [f"- {written_form(i)}" for i in b.items] + [""]
    if b.kind == "link":
        return [f"{written_form(b.text)} : {display_url(b.url)}", ""]
    if b.kind in CALLOUTS:
        return [f"{CALLOUTS[b.kind]} :"] + [line for c in b.children for line in _block_lines(c)]
    return []


def _page_lines(page: Page) -> list[str]:
    if page.narration:
        return [line for para in re.split(r"\n\s*\n", page.narration.strip()) for line in (written_form(para), "")]
    return [line for b in page.blocks for line in _block_lines(b)]


def guide_text(guide: Guide) -> str:
    def underline(text: str, ch: str) -> list[str]:
        return [text, ch * len(text), ""]

    lines = underline(written_form(guide.title), "#")
    for extra in (guide.subtitle, guide.publisher, guide.description):
        if extra:
            lines += [written_form(extra), ""]
    part = None
    for ch in guide.chapters:
        if ch.part is not None and ch.part is not part:
            part = ch.part
            lines += [""] + underline(part_heading(guide, ch), "=")
        lines += underline(written_form(ch.title), "-")
        for page in ch.pages:
            lines += [f"{written_form(page.title)}", ""] + _page_lines(page)
    if guide.rights:
        lines += [written_form(guide.rights)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# --- HTML --------------------------------------------------------------------------------------

def _block_html(b: Block, level: int) -> list[str]:
    if b.kind == "p":
        return [f"<p>{inline_html(b.text)}</p>"]
    if b.kind == "heading":
        return [f"<h{level}>{inline_html(b.text)}</h{level}>"]
    if b.kind == "list":
        return ["<ul>"] + [f"  <li>{inline_html(i)}</li>" for i in b.items] + ["</ul>"]
    if b.kind == "link":
        return [f'<p>{inline_html(b.text)} : <a href="{html.escape(_href(b.url))}">'
                f"{html.escape(display_url(b.url))}</a></p>"]
    if b.kind in CALLOUTS:
        inner = [line for c in b.children for line in _block_html(c, level)]
        return [f'<div class="callout"><p><strong>{CALLOUTS[b.kind]} :</strong></p>', *inner, "</div>"]
    return []


def page_html(page: Page, level: int) -> list[str]:
    """A page's title at `level` and its body (headings inside it one level down)."""
    lines = [f"<h{level}>{inline_html(page.title)}</h{level}>"]
    if page.narration:
        return lines + [f"<p>{inline_html(p)}</p>" for p in re.split(r"\n\s*\n", page.narration.strip())]
    return lines + [line for b in page.blocks for line in _block_html(b, min(level + 1, 6))]


def chapter_html(chapter: Chapter, level: int = 3) -> str:
    """One chapter's pages as an HTML fragment: the podcast episode's show notes."""
    return "\n".join(line for p in chapter.pages for line in page_html(p, level)) + "\n"


def _anchor(*ids: str) -> str:
    return "-".join(ids)


def guide_html(guide: Guide) -> str:
    esc = html.escape
    body = ["<header>", f"<h1>{inline_html(guide.title)}</h1>"]
    body += [f"<p>{inline_html(x)}</p>" for x in (guide.subtitle, guide.publisher) if x] + ["</header>"]
    toc, sections, part = [], [], None
    for ch in guide.chapters:
        level = 3 if ch.part else 2
        if ch.part is not None and ch.part is not part:
            part = ch.part
            toc.append(f'<li><a href="#{_anchor("partie", part.id)}">{esc(part_heading(guide, ch))}</a></li>')
            sections.append(f'<h2 id="{_anchor("partie", part.id)}">{esc(part_heading(guide, ch))}</h2>')
        if ch.part is None:
            toc.append(f'<li><a href="#{_anchor("sujet", ch.id)}">{inline_html(ch.title)}</a></li>')
        sections.append(f'<section aria-labelledby="{_anchor("sujet", ch.id)}">')
        sections.append(f'<h{level} id="{_anchor("sujet", ch.id)}">{inline_html(ch.title)}</h{level}>')
        sections += [line for p in ch.pages for line in page_html(p, level + 1)]
        sections.append("</section>")
    body += ['<nav aria-labelledby="sommaire"><h2 id="sommaire">Sommaire</h2>', "<ul>", *toc, "</ul>", "</nav>",
             "<main>", *sections, "</main>"]
    if guide.rights:
        body.append(f"<footer><p>{inline_html(guide.rights)}</p></footer>")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="fr">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(written_form(guide.title))} — transcription</title>",
        "<style>body { font: 125%/1.5 \"DejaVu Sans\", Verdana, Arial, sans-serif; max-width: 45em; margin: 1em auto;"
        " padding: 0 1em; color: #000; background: #fff; } .callout { border-left: 6px solid #000; padding-left: 1em; }"
        " a { color: #00449e; }</style>",
        "</head>", "<body>", *body, "</body>", "</html>", ""])


class FullTextPublisher(Publisher):
    name = "fulltext"

    def entries(self, guide) -> dict:
        return {"transcript": {"txt": TXT, "html": HTML}}

    def publish(self, result: BuildContext) -> list:
        written = []
        for name, text in ((TXT, guide_text(result.guide)), (HTML, guide_html(result.guide))):
            result.write(name, text.encode("utf-8"))
            written.append(result.out_dir / name)
        return written
