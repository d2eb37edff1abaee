"""Page -> narration script: where-am-I announcements, paragraphs, lists with pauses, callouts, links, cues."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audioguide.guide import CALLOUTS, Block, Chapter, Guide, Page
from audioguide.narration.pipeline import Normalizer

# Silence after each kind of segment, in milliseconds: long enough to hear structure, short enough
# not to feel like the player stopped.
PAUSES = {"announce": 700, "heading": 500, "sentence": 250, "paragraph": 650, "item": 450, "last-item": 650,
          "callout": 350, "link": 650, "cue": 500}
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


class ScriptWriter:
    """Writes the narration of every page of a guide; pure text, no audio."""

    def __init__(self, guide: Guide, normalizer: Normalizer | None = None):
        self.guide = guide
        self.say = normalizer or Normalizer(guide.lexicon)

    def _para(self, raw: str, last_kind: str = "paragraph") -> list[Segment]:
        spoken = self.say(raw)
        if not spoken:
            return []
        sentences = split_sentences(_end(spoken))
        segs = [Segment(s, PAUSES["sentence"]) for s in sentences]
        segs[-1].pause_ms, segs[-1].kind = PAUSES[last_kind], last_kind
        return segs

    def announcement(self, chapter: Chapter, page: Page, index: int) -> str:
        n = len(chapter.pages)
        where = f"{chapter.title}, partie {index} sur {n} : {_lower_first(page.title)}" if n > 1 \
            else f"{chapter.title} : {_lower_first(page.title)}" if page.title != chapter.title else chapter.title
        if index == 1 and chapter.part is not None:
            return f"Chapitre {chapter.part.number}, {chapter.part.title}. {_end(where, '')}"
        return where

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
                segs.append(Segment(f"{CALLOUTS[b.kind]} :", PAUSES["callout"], "callout"))
                segs += self.blocks(b.children)
        return segs

    def page(self, chapter: Chapter, page: Page, index: int) -> PageScript:
        script = PageScript(chapter, page, index)
        script.segments.append(Segment(_end(self.say(self.announcement(chapter, page, index)), ""),
                                       PAUSES["announce"], "announce"))
        if page.narration:
            for para in re.split(r"\n\s*\n", page.narration.strip()):
                script.segments += self._para(para)
        else:
            script.segments += self.blocks(page.blocks)
        return script

    def prompt(self, text: str) -> list[Segment]:
        """A menu prompt or message, narrated like the guide (same normaliser, same sentence pauses)."""
        return self._para(text)

    def end_cue(self, chapter: Chapter) -> Segment:
        chapters = self.guide.chapters
        i = chapters.index(chapter)
        if i + 1 < len(chapters):
            nxt = chapters[i + 1]
            text = f"Fin de : {chapter.title}. À suivre : {nxt.title}."
        else:
            text = f"Fin de : {chapter.title}. C'est la fin du guide {self.guide.title}. Merci de votre écoute."
        return Segment(self.say(text), PAUSES["cue"], "cue")

    def chapter(self, chapter: Chapter) -> list[PageScript]:
        pages = [self.page(chapter, p, i) for i, p in enumerate(chapter.pages, 1)]
        pages[-1].segments.append(self.end_cue(chapter))
        return pages
