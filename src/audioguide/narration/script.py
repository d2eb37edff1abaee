"""Page -> narration script: where-am-I announcements, paragraphs, lists with pauses, callouts, links, cues."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audioguide.config import DEFAULT_PACE, PACES
from audioguide.guide import CALLOUTS, Block, Chapter, Guide, Page
from audioguide.narration.numbers import cardinal
from audioguide.narration.pipeline import Normalizer

# Silence after each kind of segment at the normal pace, in milliseconds: at least half a second between
# sentences so a listener new to synthetic speech can follow, more between list items and most at the end
# of a page, short enough not to feel like the player stopped. A pace scales them all.
PAUSES = {"announce": 800, "heading": 700, "sentence": 500, "paragraph": 850, "item": 700, "last-item": 900,
          "callout": 400, "link": 850, "cue": 600, "page": 1100}
MAX_SEGMENT_CHARS = 600  # engines (gTTS, espeak) behave best on sentence-sized input


@dataclass
class Segment:
    """One stretch of speech followed by a silence; the unit of synthesis, caching and timing."""

    text: str
    pause_ms: int
    kind: str = "sentence"


@dataclass
class PageScript:
    chapter: Chapter
    page: Page
    index: int
    segments: list[Segment] = field(default_factory=list)

    @property
    def transcript(self) -> str:
        return "\n".join(s.text for s in self.segments)


def _lower_first(title: str) -> str:
    if len(title) > 1 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title


def _end(text: str, mark: str = ".") -> str:
    text = text.strip().rstrip(",;")
    return text if text[-1:] in ".!?…:" else text + mark


def split_sentences(text: str) -> list[str]:
    """Split spoken text at sentence ends; overlong sentences are cut at commas, then at spaces.
    Never after a spelled acronym: in "Le D.M.P. Mon espace santé…" the dot belongs to the acronym."""
    parts = [p.strip() for p in re.split(r"(?<![A-ZÀ-Ý]\.[A-ZÀ-Ý]\.)(?<=[.!?…])\s+(?=[A-ZÀ-Ý«\"'])", text)
             if p.strip()]
    out: list[str] = []
    for p in parts:
        while len(p) > MAX_SEGMENT_CHARS:
            cut = p.rfind(", ", 0, MAX_SEGMENT_CHARS)
            if cut < MAX_SEGMENT_CHARS // 3:
                cut = p.rfind(" ", 0, MAX_SEGMENT_CHARS)
            if cut <= 0:
                cut = MAX_SEGMENT_CHARS
            out.append(p[:cut + 1].strip())
            p = p[cut + 1:].strip()
        if p:
            out.append(p)
    return out


def _words(text: str) -> str:
    """Lowercase letters only, for comparing what two segments say."""
    return " ".join(re.findall(r"[^\W\d_]+", text.lower()))


class ScriptWriter:
    """Writes the narration of every page of a guide; pure text, no audio."""

    def __init__(self, guide: Guide, normalizer: Normalizer | None = None, pace: str | None = None):
        self.guide = guide
        self.say = normalizer or Normalizer(guide.lexicon)
        scale = PACES[pace or guide.pace or DEFAULT_PACE].pause_scale
        self.pauses = {kind: round(ms * scale) for kind, ms in PAUSES.items()}

    def _para(self, raw: str, last_kind: str = "paragraph") -> list[Segment]:
        spoken = self.say(raw)
        if not spoken:
            return []
        sentences = split_sentences(_end(spoken))
        segs = [Segment(s, self.pauses["sentence"]) for s in sentences]
        segs[-1].pause_ms, segs[-1].kind = self.pauses[last_kind], last_kind
        return segs

    def announcement(self, chapter: Chapter, page: Page, index: int) -> str:
        """Where the listener is. A chapter's first page says the chapter and its page count (it is where an
        episode, a phone choice or a jump lands), and the part where one begins; the pages after it say only
        their number and title. Episode tags, the phone menu and the kiosk list carry the part too."""
        levels, n = self.guide.levels, len(chapter.pages)
        if index > 1:
            return f"{levels.page.title} {cardinal(index)} : {_lower_first(page.title)}"
        where = []
        if any(chapter.part is p for p in self.guide.named_parts) and chapter.index_in_part == 1:
            where.append(_end(f"{levels.part.title} {cardinal(chapter.part.number)}, {chapter.part.title}"))
        if chapter is self.guide.intro:
            where.append(_end(chapter.title))
        else:
            where.append(_end(f"{levels.chapter.title} {cardinal(chapter.index_in_part)} : {chapter.title}"))
        if n > 1:
            where.append(f"{levels.page.title} un sur {cardinal(n)} : {_lower_first(page.title)}")
        elif page.title != chapter.title:
            where.append(page.title)
        return " ".join(where)

    def blocks(self, blocks: list[Block]) -> list[Segment]:
        segs: list[Segment] = []
        for b in blocks:
            if b.kind == "p":
                segs += self._para(b.text)
            elif b.kind == "heading":
                segs += self._para(_end(b.text), "heading")
            elif b.kind == "list":
                for i, item in enumerate(b.items):
                    last = i == len(b.items) - 1
                    segs += self._para(item, "last-item" if last else "item")
            elif b.kind == "link":
                host = re.sub(r"^(?:https?://)?(?:www\.)?", "", b.url).split("/")[0]
                segs += self._para(f"{_end(b.text, '')} : {host}", "link")
            elif b.kind in CALLOUTS:
                segs.append(Segment(f"{CALLOUTS[b.kind]} :", self.pauses["callout"], "callout"))
                segs += self.blocks(b.children)
        return segs

    def page(self, chapter: Chapter, page: Page, index: int) -> PageScript:
        script = PageScript(chapter, page, index)
        segs = [Segment(_end(self.say(self.announcement(chapter, page, index)), ""), self.pauses["announce"],
                        "announce")]
        if page.narration:
            for para in re.split(r"\n\s*\n", page.narration.strip()):
                segs += self._para(para)
        else:
            segs += self.blocks(page.blocks)
        for seg in segs:
            # A callout label just said by the page title or a heading ("… : attention." "Attention :")
            # would be heard twice in a row.
            if seg.kind == "callout" and script.segments and \
                    _words(script.segments[-1].text).endswith(_words(seg.text)):
                continue
            script.segments.append(seg)
        last = script.segments[-1]
        last.pause_ms = max(last.pause_ms, self.pauses["page"])
        return script

    def prompt(self, text: str) -> list[Segment]:
        """A menu prompt or message, narrated like the guide (same normaliser, same sentence pauses)."""
        return self._para(text)

    def end_cue(self, chapter: Chapter) -> Segment:
        """ "Fin du sujet.", or the guide's end. Neither this chapter's title nor the next one's is said: the
        listener has just heard the one, and the next chapter announces itself (players list it too)."""
        g = self.guide
        chapters = g.chapters
        i = chapters.index(chapter)
        text = "Fin de l'introduction." if chapter is g.intro else f"Fin {g.levels.chapter.of_the}."
        if i + 1 == len(chapters):
            text += f" C'est la fin du guide {_end(g.title)} Merci de votre écoute."
        return Segment(self.say(text), self.pauses["cue"], "cue")

    def chapter(self, chapter: Chapter) -> list[PageScript]:
        pages = [self.page(chapter, p, i) for i, p in enumerate(chapter.pages, 1)]
        pages[-1].segments.append(self.end_cue(chapter))
        return pages
