"""The talking book: the guide as written, each sentence paired with its clip in its chapter's MP3.

EPUB 3 with Media Overlays (`publishers/epub.py`) and DAISY 2.02 (`publishers/daisy.py`) are both written from
this one model, so both formats hold the same text, the same ids and the same clips.

Use::

    book = Book.from_build(result)          # after the chapters are built (result.manifest is set)
    for ch in book.chapters:                # in the guide's order, the introduction first
        ch.mp3                              # "audio/03-dmp.<sha12>.mp3", relative to result.out_dir
        ch.duration                         # seconds, the MP3's real length
        ch.level                            # heading level of its title: 1 without a part, 2 in a part
        ch.part_heading                     # Heading of the part, on the part's first chapter only; else None
        ch.heading                          # Heading of the chapter (id "ch.<chapter id>")
        for page in ch.pages:
            page.heading                    # Heading (id "page.<chapter id>.<page id>", level ch.level + 1)
            page.start, page.end            # the page's span in the chapter MP3
            for block in page.blocks:       # Block: kind "p" | "heading" | "list" | "link" | a callout kind
                block.sentences             # p, heading, link: its text; callout: its label ("Attention :")
                block.items                 # list: one list of Sentences per item
                block.children              # callout: the Blocks inside it
                block.url                   # link: its address
        ch.clips()                          # every Heading and Sentence that has a clip, in audio order
        ch.playback()                       # (item, begin, end) for each of them, tiling the whole MP3:
                                            # what a SMIL file lists as `par`s (text id + clipBegin/clipEnd)
        chapter_body(ch)                    # the chapter as XHTML lines (h1-h6, p, ul/li, span per sentence)

A `Sentence` has a stable `id` ("s.<chapter id>.<page id>.<n>", n counting from 1 on each page), its written
`text`, and `clip` = `Clip(start, end)`: where its speech starts and ends in the chapter's MP3 (seconds), or None
when nothing was said for it (a callout label the page title has just said). A long sentence said clause by
clause (cues with `cont`) is one sentence whose clip runs from its first clause's start to its last clause's
end. A `Heading` has `id`, `text`, `level` and a `clip` too: the sentence of the spoken frame that names it
("Sujet 1 : Mon espace santé."); when the frame could not be cut one sentence per level, the first heading it
names gets the whole frame and the others None. The end cue ("Fin du sujet.", and the guide's end on the last
chapter) is `ch.end`, a Sentence of its own after the pages (id "end.<chapter id>"), whose clip starts where
the speech before it ends: the falling earcon and the cue are its audio, so a reader's highlight leaves the
last sentence when its speech does, as in the kiosk.

Ids are NCNames made from the guide's ids (a part's heading: "part.<part id>"), unique in the whole book
(one content document may hold every chapter) and the same from one build to the next.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from lxml import etree

from audioguide.exceptions import PublishError
from audioguide.guide import CALLOUTS, Guide
from audioguide.guide import Block as GuideBlock
from audioguide.guide import Chapter as GuideChapter
from audioguide.guide import Page as GuidePage
from audioguide.narration.inline import display_url, escape, own_address, stressed
from audioguide.narration.written import split_sentences, written_form
from audioguide.publishers.fulltext import inline_html, part_heading
from audioguide.timing import Cue, end_cue_start


@dataclass(frozen=True)
class Clip:
    start: float
    """Seconds from the start of the chapter's MP3 where the speech starts."""
    end: float
    """Where it ends (before the pause that follows)."""


@dataclass
class Sentence:
    id: str
    text: str
    """As written ("Appelez le 15."), never the spoken form."""
    clip: Clip | None = None
    marked: str | None = None
    """The text as inline markup with the source's bold and italics marked again (`**…**`, `*…*`, the rest
    escaped), for the XHTML; None: none."""


@dataclass
class Heading:
    id: str
    text: str
    level: int
    """1 to 6, as in <h1>…<h6>."""
    clip: Clip | None = None


@dataclass
class Block:
    kind: str
    """p, heading, list, link, or a callout kind (attention, bon-a-savoir…)."""
    sentences: list[Sentence] = field(default_factory=list)
    items: list[list[Sentence]] = field(default_factory=list)
    children: list[Block] = field(default_factory=list)
    url: str = ""
    level: int = 0
    """A heading block's level (its page's level + 1, at most 6)."""


@dataclass
class Page:
    id: str
    title: str
    heading: Heading
    blocks: list[Block]
    start: float
    end: float


@dataclass
class Chapter:
    id: str
    number: int
    slug: str
    title: str
    part: dict | None
    """The manifest's part: id, number, title (None for the introduction or a guide without parts)."""
    level: int
    heading: Heading
    part_heading: Heading | None
    pages: list[Page]
    mp3: str
    duration: float
    sha256: str
    bytes: int
    end: Sentence | None = None
    """The end cue, after the pages; None when the narration has none."""

    def clips(self) -> list[Heading | Sentence]:
        """Every heading and sentence with a clip, ordered by its clip's start (document order too)."""
        found: list[Heading | Sentence] = [h for h in (self.part_heading, self.heading) if h and h.clip]
        for page in self.pages:
            if page.heading.clip:
                found.append(page.heading)
            found += [s for b in page.blocks for s in _sentences(b) if s.clip]
        if self.end is not None:
            found.append(self.end)
        return sorted(found, key=lambda x: x.clip.start if x.clip else 0.0)  # all have a clip (filtered above)

    def playback(self) -> list[tuple[Heading | Sentence, float, float]]:
        """clips() laid end to end over the whole audio: (item, begin, end), the first from 0 (with the
        opening chime), each to where the next starts (with its pause, and a page tick before the next page),
        the last to the end of the audio (with the end cue). Players of EPUB overlays and DAISY books play only
        the clips, one after the other: clips that tile the audio keep the pauses a listener hears in the MP3,
        instead of running the sentences together."""
        items = self.clips()
        end = min(self.duration, self.pages[-1].end)
        starts = [0.0] + [x.clip.start for x in items[1:] if x.clip]  # clips() keeps only those with one
        return [(x, b, e) for x, b, e in zip(items, starts, starts[1:] + [end])]

    def sentences(self) -> list[Sentence]:
        """Every sentence of the chapter's pages, in document order, with a clip or not."""
        return [s for p in self.pages for b in p.blocks for s in _sentences(b)]


@dataclass
class Book:
    guide: Guide
    manifest: dict
    chapters: list[Chapter]

    @property
    def duration(self) -> float:
        return round(sum(c.duration for c in self.chapters), 3)

    @classmethod
    def from_build(cls, result) -> Book:
        return cls.from_manifest(result.guide, result.manifest)

    @classmethod
    def from_manifest(cls, guide: Guide, manifest: dict) -> Book:
        by_id = {c["id"]: c for c in manifest["chapters"]}
        chapters = []
        for ch in guide.chapters:
            if ch.id not in by_id:
                raise PublishError(f"Talking book: chapter {ch.id} is not in the build's manifest.",
                                   cause="the manifest comes from another version of the guide",
                                   fix="build the guide again")
            chapters.append(_chapter(guide, ch, by_id[ch.id]))
        return cls(guide, manifest, chapters)


def _sentences(b: Block) -> list[Sentence]:
    return b.sentences + [s for item in b.items for s in item] + [s for c in b.children for s in _sentences(c)]


# --- from the guide and the cues -----------------------------------------------------------------------

def _chapter(guide: Guide, ch: GuideChapter, entry: dict) -> Chapter:
    level = 2 if ch.part else 1
    part_head = None
    if ch.part is not None and ch.index_in_part == 1:
        part_head = Heading(f"part.{ch.part.id}", part_heading(guide, ch), 1)
    head = Heading(f"ch.{ch.id}", written_form(ch.title), level)
    if len(entry["pages"]) != len(ch.pages):
        raise PublishError(f"Talking book: chapter {ch.id} has {len(ch.pages)} pages in the guide but "
                           f"{len(entry['pages'])} in the build's manifest.",
                           cause="the manifest comes from another version of the guide", fix="build the guide again")
    pages = []
    for i, (page, timing) in enumerate(zip(ch.pages, entry["pages"])):
        heading = Heading(f"page.{ch.id}.{page.id}", written_form(page.title), min(level + 1, 6))
        cues = timing["cues"]
        frame = [c for c in cues if c.get("kind") == "announce"]
        if i == 0:
            said = [h for h in (part_head, head) if h] if guide.named_parts or part_head is None else [head]
            if len(ch.pages) > 1 or page.title != ch.title:
                said.append(heading)
        else:
            said = [heading]
        _frame_clips(said, frame)
        pages.append(Page(page.id, page.title, heading, _page_blocks(ch, page, cues, heading.level),
                          timing["start"], timing["end"]))
    part = {"id": ch.part.id, "number": ch.part.number, "title": ch.part.title} if ch.part else None
    return Chapter(ch.id, ch.number, ch.slug, ch.title, part, level, head, part_head, pages, entry["mp3"],
                   entry["duration"], entry["sha256"], entry["bytes"], _end_cue(ch, entry["pages"][-1]["cues"]))


def _end_cue(ch: GuideChapter, cues: list[Cue]) -> Sentence | None:
    """The run of end cues closing the last page, as one Sentence. Its clip starts where the speech before it
    ends, so the earcon before "Fin du sujet." is its audio and not the last sentence's."""
    n = end_cue_start(cues)
    if n == len(cues):
        return None
    end = cues[n:]
    return Sentence(f"end.{ch.id}", " ".join(c["written"] or c["text"] for c in end),
                    Clip(cues[n - 1]["end"], end[-1]["end"]))


def _frame_clips(headings: list[Heading], frame: list[dict]) -> None:
    """The frame is said one sentence per level ("Partie 2, …" "Sujet 1 : …" "Page 1 sur 6 : …"): each
    heading gets its sentence. When the frame could not be cut that way, the first heading gets it all."""
    if not frame or not headings:
        return
    if len(frame) == len(headings):
        for h, c in zip(headings, frame):
            h.clip = Clip(c["start"], c["end"])
    else:
        headings[0].clip = Clip(frame[0]["start"], frame[-1]["end"])


def _page_blocks(ch: GuideChapter, page: GuidePage, cues: list[dict], level: int) -> list[Block]:
    source = ([GuideBlock("p", text=p) for p in _paragraphs(page.narration)] if page.narration
              else page.blocks)
    blocks = [_block(b, min(level + 1, 6)) for b in source]
    # Cues in order; a sentence said clause by clause is several cues, the last without `cont`.
    texts: dict[tuple, list[list[dict]]] = {}
    run: list[dict] = []
    for c in cues:
        if c.get("block") is None:
            continue
        run.append(c)
        if not c.get("cont"):
            texts.setdefault(tuple(run[0]["block"]), []).append(run)
            run = []
    if run:
        texts.setdefault(tuple(run[0]["block"]), []).append(run)
    for path, runs in texts.items():
        target = _slot(blocks, path)
        if target is None:
            raise PublishError(f"Talking book: page {ch.id}/{page.id}: the narration names block {list(path)}, "
                               "which the page does not have.",
                               cause="the build's cue timings come from another version of the guide",
                               fix="build the guide again with --clean")
        target += [Sentence("", " ".join(c["written"] or c["text"] for c in r),
                            Clip(r[0]["start"], r[-1]["end"])) for r in runs]
    _fill_unsaid(blocks, source)
    _restore_emphasis(blocks, source)
    n = 0
    for b in blocks:
        for s in _sentences(b):
            n += 1
            s.id = f"s.{ch.id}.{page.id}.{n}"
    return blocks


def _paragraphs(narration: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", narration.strip()) if p.strip()]


def _block(b: GuideBlock, level: int) -> Block:
    if b.kind == "list":
        return Block("list", items=[[] for _ in b.items])
    if b.kind in CALLOUTS:
        return Block(b.kind, children=[_block(c, level) for c in b.children])
    return Block(b.kind, url=b.url, level=level if b.kind == "heading" else 0)


def _slot(blocks: list[Block], path: tuple) -> list[Sentence] | None:
    """The sentence list a block path points at: (block), (list, item), (callout, child, …)."""
    if not path or not 0 <= path[0] < len(blocks):
        return None
    b = blocks[path[0]]
    if len(path) == 1:
        return b.sentences
    if b.kind == "list":
        return b.items[path[1]] if len(path) == 2 and 0 <= path[1] < len(b.items) else None
    if b.kind in CALLOUTS:
        return _slot(b.children, path[1:])
    return None


def _fill_unsaid(blocks: list[Block], source: list[GuideBlock]) -> None:
    """Text the narration did not say (a callout label already said by the page title, a piece with no
    speakable words) is still written, without a clip."""
    for b, g in zip(blocks, source):
        if b.kind == "list":
            for item, text in zip(b.items, g.items):
                if not item:
                    item += _unsaid(text)
        elif b.kind in CALLOUTS:
            if not b.sentences:
                b.sentences.append(Sentence("", f"{CALLOUTS[g.kind]} :"))
            _fill_unsaid(b.children, g.children)
        elif not b.sentences:
            b.sentences += _unsaid(f"{g.text} : {display_url(g.url)}" if g.kind == "link" else g.text)


def _unsaid(text: str) -> list[Sentence]:
    return [Sentence("", s) for s in split_sentences(written_form(text))]


def _restore_emphasis(blocks: list[Block], source: list[GuideBlock]) -> None:
    """Bold and italics of the source back on its written sentences: written_form drops the markup (the
    captions and the clips' text have none), and a reader of the book must still see what the guide stresses."""
    for b, g in zip(blocks, source):
        if b.kind == "list":
            for item, text in zip(b.items, g.items):
                _mark(item, text)
        elif b.kind in CALLOUTS:
            _restore_emphasis(b.children, g.children)
        else:
            _mark(b.sentences, g.text or "")


def _mark(sentences: list[Sentence], raw: str) -> None:
    """Each stressed phrase of `raw`, in order, found in the sentences from where the last one was; a phrase
    not found whole in one sentence stays plain. `marked` is inline markup: the rest of the text escaped."""
    k, pos = 0, 0
    for phrase, mark in stressed(raw):
        phrase = escape(written_form(phrase))
        for i in range(k, len(sentences) if phrase else 0):
            text = sentences[i].marked or escape(sentences[i].text)
            at = text.find(phrase, pos if i == k else 0)
            if at >= 0:
                sentences[i].marked = f"{text[:at]}{mark}{phrase}{mark}{text[at + len(phrase):]}"
                k, pos = i, at + len(phrase) + 2 * len(mark)
                break


# --- XHTML ---------------------------------------------------------------------------------------

_XML = (".xhtml", ".html", ".smil", ".opf", ".xml")


def well_formed(files: dict[str, bytes], book: str) -> dict[str, bytes]:
    """Every XML document of a book, parsed before any is written: an ill-formed one is an error, not a book
    that readers refuse to open (and nothing is published)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    for name, data in files.items():
        if name.endswith(_XML):
            try:
                etree.fromstring(data, parser)
            except etree.XMLSyntaxError as exc:
                raise PublishError(f"{book}: {name} would not be well-formed XML (line {exc.lineno}: {exc.msg}).",
                                   cause="a bug of ours: some text of the guide was turned into broken markup",
                                   fix="please report it with the guide; the previous book is kept as it was"
                                   ) from None
    return files

def sentence_html(s: Sentence, url: str = "") -> str:
    """One sentence as a span with its id; its addresses as links (a link block's own address: `url`)."""
    shown = display_url(url) if url else ""
    text, shown = s.marked or escape(s.text), escape(shown)
    number = re.search(r"\d[\d .]*\d", text) if url[:4].lower() == "tel:" else None
    if shown and text.endswith(shown):
        body = f"{inline_html(text[:-len(shown)])} {inline_html(f'[{shown}]({url})')}"
    elif number and own_address(number.group(), url):  # « Appeler le 01 23 45 67 89. »: the number links
        body = (f"{inline_html(text[:number.start()])} {inline_html(f'[{number.group()}]({url})')}"
                f"{inline_html(text[number.end():])}")
    else:
        body = inline_html(text)
    return f'<span id="{s.id}">{body}</span>'


def _spans(sentences: list[Sentence], url: str = "") -> str:
    return " ".join(sentence_html(s, url) for s in sentences)


def block_html(b: Block) -> list[str]:
    if b.kind == "heading":
        return [f"<h{b.level}>{_spans(b.sentences)}</h{b.level}>"]
    if b.kind == "list":
        return ["<ul>"] + [f"  <li>{_spans(item)}</li>" for item in b.items] + ["</ul>"]
    if b.kind in CALLOUTS:
        inner = [line for c in b.children for line in block_html(c)]
        return [f'<div class="callout {b.kind}">', f"<p><strong>{_spans(b.sentences)}</strong></p>", *inner, "</div>"]
    return [f"<p>{_spans(b.sentences, b.url)}</p>"]


def heading_html(h: Heading) -> str:
    return f'<h{h.level} id="{h.id}">{html.escape(h.text, quote=False)}</h{h.level}>'


def chapter_body(ch: Chapter) -> list[str]:
    """The chapter as XHTML body lines, valid in XHTML 1.0 and in EPUB 3's XHTML: its part's heading (on
    the part's first chapter), its own, then each page's heading and blocks. Ids: headings and sentences."""
    lines = [heading_html(h) for h in (ch.part_heading, ch.heading) if h]
    for page in ch.pages:
        lines.append(heading_html(page.heading))
        lines += [line for b in page.blocks for line in block_html(b)]
    if ch.end is not None:
        lines.append(f'<p class="end-cue">{sentence_html(ch.end)}</p>')
    return lines
