"""Page -> narration script: where-am-I announcements, paragraphs, lists with pauses, callouts, links, cues.

Every segment carries two forms of the same words: `written`, the guide's text as a reader sees it (markup
stripped, nothing spelled out), and `text`, the spoken form only the engine receives. The written text is cut
first (sentences, then clauses short enough for a caption), and each piece is narrated on its own, so each
written piece has exactly one clip and the audio gives its start and end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audioguide.config import DEFAULT_PACE, PACES
from audioguide.guide import CALLOUTS, Block, Chapter, Guide, Page
from audioguide.narration.captions import WEAK_ENDS, fits_caption, glued
from audioguide.narration.inline import display_url, national, own_address
from audioguide.narration.numbers import cardinal
from audioguide.narration.pipeline import Normalizer
from audioguide.narration.written import end_with, join_sentences, lower_first, split_sentences, written_form

# Silence after each kind of segment at the normal pace, in milliseconds: at least half a second between
# sentences so a listener new to synthetic speech can follow, more between list items and most at the end
# of a page, short enough not to feel like the player stopped. A pace scales them all.
PAUSES = {"announce": 800, "heading": 700, "sentence": 500, "paragraph": 850, "item": 700, "last-item": 900,
          "callout": 400, "link": 850, "cue": 600, "page": 1100, "clause": 200}
# Caption practice (captions.py): at most 2 lines of at most 42 characters, cues of 1 to 7 s. A piece of text
# is one caption, so it must wrap into those lines; its spoken form is capped too, because numbers and addresses
# grow when said ("3422" -> "trente-quatre vingt-deux"): espeak-ng at 145 words/min says about 15 characters
# a second, so 85 spoken characters stay under 6 s, short of the 7 s limit; a slower pace says fewer.
MAX_SPOKEN_CHARS, MAX_SPOKEN_AT_WPM = 85, 145
MIN_SPOKEN_CHARS = 18  # about 1.2 s said: a shorter piece ("Concrètement,") joins a neighbour


@dataclass
class Segment:
    """One stretch of speech followed by a silence; the unit of synthesis, caching and timing."""

    text: str
    """Spoken form: what the engine says."""
    pause_ms: int
    kind: str = "sentence"
    written: str = ""
    """Written form of the same words, for every text output (transcripts, tags, kiosk, feed)."""
    cont: bool = False
    """The sentence goes on in the next segment (a long sentence cut at a clause for its caption)."""
    block: list[int] | None = None
    """Where the guide writes these words on the page: the block's index, then the list item's or the
    callout child's (recursively); a hand-written narration's paragraph is a block. None for the frame and
    the end cues, which the guide does not write. The talking book puts each sentence in its block. A list,
    as in the cues read back from JSON, so a rebuild's manifest equals the first one."""
    cuts: list[list[int]] | None = None
    """Where the captions after the first start inside this clip, as [offset in `written`, offset in `text`]:
    a sentence is cut into clips only at its clause punctuation, so a clause longer than a caption is one
    clip with several captions, timed from the engine's own timing of its words. None: one caption."""

    def captions(self) -> list[tuple[str, str]]:
        """(written, spoken) of each caption of this clip, in order."""
        w = [0] + [c[0] for c in self.cuts or []] + [len(self.written)]
        t = [0] + [c[1] for c in self.cuts or []] + [len(self.text)]
        return [(self.written[a:b].strip(), self.text[c:d].strip()) for a, b, c, d in zip(w, w[1:], t, t[1:])]


@dataclass
class PageScript:
    chapter: Chapter
    page: Page
    index: int
    segments: list[Segment] = field(default_factory=list)

    @property
    def transcript(self) -> str:
        """The page as said: one line per sentence (and one for the frame)."""
        return join_sentences(self.segments, spoken=True)

    @property
    def written(self) -> str:
        """The page as a reader sees it: one line per sentence."""
        return join_sentences(self.segments)


def _placed(segments: list[Segment], block: tuple[int, ...]) -> list[Segment]:
    for seg in segments:
        seg.block = list(block)
    return segments


def _words(text: str) -> str:
    """Lowercase letters only, for comparing what two segments say."""
    return " ".join(re.findall(r"[^\W\d_]+", text.lower()))


# Where a long sentence may be cut for its captions: after a comma, semicolon or colon, before a parenthesis
# or a spaced dash. Never inside a number ("10 000", "06 12 34 56 78").
_CLAUSE_CUT = re.compile(r"(?<=[,;:)])\s+|\s+(?=[(–—])")
def rising(spoken: str) -> str:
    """A clip that leaves its sentence unfinished ends on a comma, so the engine's intonation says "more to
    come": with no mark (cut before "(" or after ")") or after a spelled acronym's dot ("la H.A.S.", even
    followed by a comma), espeak-ng ends it with a full-stop fall (84 Hz against 101 Hz)."""
    spoken = re.sub(r"(?<=[A-ZÀ-Ý])\.(?=[,;:]?$)", "", spoken.rstrip())
    return spoken if spoken[-1:] in ",;:" else spoken + ","


def _clause_cut(before: str, after: str) -> bool:
    """Is the cut between two pieces of a sentence at its clause punctuation (where a clip may end)?"""
    return before[-1:] in ",;:)" or after[:1] in "(–—"


def even_cuts(text: str) -> list[list[str]]:
    """The ways to cut `text` in two between words, best first: even written lengths, a comma near the cut
    preferred, a weak word (article, preposition) never left at the end of the first piece."""
    words = text.split(" ")
    cuts = []
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if not glued(words[i - 1], words[i]):
            score = max(len(a), len(b)) - 10 * (a[-1] in ",;:") + 10 * (words[i - 1].lower() in WEAK_ENDS)
            cuts.append((score, i, [a, b]))
    return [pair for _, _, pair in sorted(cuts)]


class ScriptWriter:
    """Writes the narration of every page of a guide; pure text, no audio."""

    def __init__(self, guide: Guide, normalizer: Normalizer | None = None, pace: str | None = None):
        self.guide = guide
        self.say = normalizer or Normalizer(guide.lexicon)
        scale = PACES[pace or guide.pace or DEFAULT_PACE].pause_scale
        self.pauses = {kind: round(ms * scale) for kind, ms in PAUSES.items()}
        self._memo: dict[str, str] = {}  # cutting a sentence says the same pieces several times
        self.max_spoken = MAX_SPOKEN_CHARS * PACES[pace or guide.pace or DEFAULT_PACE].rate // MAX_SPOKEN_AT_WPM

    def _say(self, written: str) -> str:
        said = self._memo.get(written)
        if said is None:
            said = self._memo[written] = self.say(written)
        return said

    def _fits(self, written: str) -> bool:
        return fits_caption(written) and len(self._say(written)) <= self.max_spoken

    def _pack(self, pieces: list[str], sep: str = " ") -> list[str]:
        """Join neighbouring pieces while the result is still one caption."""
        out: list[str] = []
        for p in pieces:
            if out and self._fits(out[-1] + sep + p):
                out[-1] += sep + p
            else:
                out.append(p)
        return out

    def _cut_words(self, clause: str) -> list[str]:
        """A clause too long for one caption, cut between words (never between the groups of a number)."""
        words = clause.split(" ")
        groups: list[str] = []
        for w in words:
            if groups and glued(groups[-1].rsplit(" ", 1)[-1], w):
                groups[-1] += " " + w
            else:
                groups.append(w)
        # Longest prefix that fits, found by bisection: saying each candidate is the costly part.
        chunks: list[str] = []
        start = 0
        while start < len(groups):
            lo, hi = start + 1, len(groups)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self._fits(" ".join(groups[start:mid])):
                    lo = mid
                else:
                    hi = mid - 1
            chunks.append(" ".join(groups[start:lo]))
            start = lo
        # A caption should not end on "au", "de", "et"…: move such words to the start of the next one.
        for i in range(len(chunks) - 1):
            for _ in range(3):  # "… ou le | 01 23 …": both move
                head, _, last = chunks[i].rpartition(" ")
                if not (head and last.lower() in WEAK_ENDS and self._fits(f"{last} {chunks[i + 1]}")):
                    break
                chunks[i], chunks[i + 1] = head, f"{last} {chunks[i + 1]}"
        return chunks

    def _balanced(self, text: str) -> list[str]:
        """Two pieces of even spoken length, cut between words, at a comma if one is near."""
        # Ranked on the written lengths; only the best few are said, to check they fit.
        for pair in even_cuts(text)[:4]:
            if self._fits(pair[0]) and self._fits(pair[1]):
                return pair
        return self._cut_words(text)

    def _pieces(self, sentence: str) -> list[str]:
        """One written sentence -> caption-sized pieces, cut at clause boundaries, then between words."""
        if self._fits(sentence):
            return [sentence]
        clauses = [c for c in _CLAUSE_CUT.split(sentence) if c]
        pieces = self._pack([w for c in clauses for w in ([c] if self._fits(c) else self._cut_words(c))])
        # A piece said in under a second cannot be a caption of its own (1 s minimum): it joins its shorter
        # neighbour, and when the two no longer fit one caption they are cut again, evenly.
        i = 0
        while i < len(pieces) and len(pieces) > 1:
            if len(self._say(pieces[i])) < MIN_SPOKEN_CHARS:
                j = i + 1 if i == 0 or i + 1 < len(pieces) and len(pieces[i + 1]) < len(pieces[i - 1]) else i - 1
                a, b = min(i, j), max(i, j)
                merged = f"{pieces[a]} {pieces[b]}"
                pieces[a:b + 1] = [merged] if self._fits(merged) else self._balanced(merged)
            i += 1
        return pieces

    def _segments(self, written: str, last_kind: str, mark: str = ".") -> list[Segment]:
        """Written text -> segments: sentences, each cut into captions; captions said together in one clip
        unless their cut is at clause punctuation, where a clip ends on the engine's continuation rise."""
        written = written_form(written)
        if not written:
            return []
        segs: list[Segment] = []
        for sentence in split_sentences(written):
            clips: list[list[str]] = []
            for piece in self._pieces(sentence):
                if clips and not _clause_cut(clips[-1][-1], piece):
                    clips[-1].append(piece)
                else:
                    clips.append([piece])
            for i, pieces in enumerate(clips):
                seg = self._clip(pieces)
                if seg.text:
                    last = i == len(clips) - 1
                    seg.pause_ms, seg.cont = self.pauses["sentence" if last else "clause"], not last
                    if not last:
                        seg.text = rising(seg.text)
                    segs.append(seg)
        if not segs:
            return []
        segs[-1].cont = False
        if mark:
            segs[-1].text = end_with(segs[-1].text, mark)
        segs[-1].pause_ms, segs[-1].kind = self.pauses[last_kind], last_kind
        return segs

    def _clip(self, pieces: list[str]) -> Segment:
        """One clip from its captions' written pieces: the spoken form is each piece's, joined, so that each
        caption's words are known in what the engine says."""
        said = [[p, self._say(p)] for p in pieces]
        for k in range(len(said) - 1, 0, -1):  # a piece with nothing to say shows with its neighbour
            if not said[k][1] or not said[k - 1][1]:
                said[k - 1:k + 1] = [[f"{said[k - 1][0]} {said[k][0]}", " ".join(filter(None, (said[k - 1][1],
                                                                                                  said[k][1])))]]
        written, text, cuts = "", "", []
        for w, t in said:
            if written:
                cuts.append([len(written) + 1, len(text) + 1])
                written, text = f"{written} {w}", f"{text} {t}"
            else:
                written, text = w, t
        # A clip cut at a comma keeps it, so the engine's intonation says "more to come".
        if text and written[-1:] in ",;" and text[-1:] not in ",;.!?…:":
            text += ","
        return Segment(text, 0, "sentence", written, cuts=cuts or None)

    def _para(self, raw: str, last_kind: str = "paragraph") -> list[Segment]:
        return self._segments(raw, last_kind)

    def announcement(self, chapter: Chapter, page: Page, index: int, number=cardinal) -> str:
        """Where the listener is. A chapter's first page says the chapter and its page count (it is where an
        episode, a phone choice or a jump lands), and the part where one begins; the pages after it say only
        their number and title. Episode tags, the phone menu and the kiosk list carry the part too.
        number=str gives its written form, with digits, for the captions and transcripts."""
        levels, n = self.guide.levels, len(chapter.pages)
        if index > 1:
            return f"{levels.page.title} {number(index)} : {lower_first(page.title)}"
        where = []
        if (part := chapter.part) is not None and any(part is p for p in self.guide.named_parts) \
                and chapter.index_in_part == 1:
            where.append(end_with(f"{levels.part.title} {number(part.number)}, {part.title}"))
        if chapter is self.guide.intro:
            where.append(end_with(chapter.title))
        else:
            where.append(end_with(f"{levels.chapter.title} {number(chapter.index_in_part)} : {chapter.title}"))
        if n > 1:
            where.append(f"{levels.page.title} {number(1)} sur {number(n)} : {lower_first(page.title)}")
        elif page.title != chapter.title:
            where.append(page.title)
        return " ".join(where)

    def blocks(self, blocks: list[Block], path: tuple[int, ...] = ()) -> list[Segment]:
        segs: list[Segment] = []
        for n, b in enumerate(blocks):
            at = (*path, n)
            if b.kind == "p":
                segs += _placed(self._para(b.text), at)
            elif b.kind == "heading":
                segs += _placed(self._para(b.text, "heading"), at)
            elif b.kind == "list":
                for i, item in enumerate(b.items):
                    last = i == len(b.items) - 1
                    segs += _placed(self._para(item, "last-item" if last else "item"), (*at, i))
            elif b.kind == "link":
                segs += _placed(self.link(b), at)
            elif b.kind in CALLOUTS:
                label = f"{CALLOUTS[b.kind]} :"
                segs.append(Segment(label, self.pauses["callout"], "callout", label, block=list(at)))
                segs += self.blocks(b.children, at)
        return segs

    def link(self, b: Block) -> list[Segment]:
        """Said as "label : ameli point f r" (the host only); written with its address as printed."""
        label = written_form(end_with(b.text, ""))
        host = re.sub(r"^www\.", "", display_url(b.url)).split("/")[0]  # display_url drops any scheme, mailto: too
        host = national(host) if b.url.lower().startswith("tel:") else host
        spoken = self.say(f"{label} : {host}")
        written = f"{label} : {display_url(b.url)}"
        if own_address(b.text, b.url):  # « contact@asso.fr », « 01 23 45 67 89 »: said once, saying what to do
            scheme = b.url.split(":", 1)[0].lower()
            verb = {"mailto": "Écrire à ", "tel": "Appeler le "}.get(scheme, "")
            # « Appelez le 3919 », « Le standard au 01… » are phrases of their own: no « Appeler le Appelez le »;
            # « standard au 01… » goes on from the verb.
            if scheme == "tel" and re.search(r"[^\W\d_]", label) and not label[:1].islower():
                verb = ""
            return self._segments(verb + label, "link")
        if fits_caption(written) and len(spoken) <= self.max_spoken:
            return [Segment(end_with(spoken), self.pauses["link"], "link", written)]
        # Too long for one caption: the label, then the address, each its own clip.
        segs = self._segments(f"{label} :", "sentence", mark="")
        for seg in segs:
            seg.pause_ms, seg.cont = self.pauses["clause"], True
        return segs + [Segment(end_with(self.say(host)), self.pauses["link"], "link", display_url(b.url))]

    def _frame(self, spoken: str, written: str, kind: str) -> list[Segment]:
        """The frame, one clip per sentence so that each is a caption of its own; its written form is a short
        heading with digits ("Sujet 1 : Mon espace santé.")."""
        said, shown = split_sentences(spoken), split_sentences(written_form(written))
        if len(said) != len(shown):  # e.g. "Le D.M.P. Page…" is one spoken sentence: keep the frame whole
            said, shown = [spoken], [written_form(written)]
        segs = [Segment(end_with(s, ""), self.pauses["sentence"], kind, w, cont=True) for s, w in zip(said, shown)]
        segs[-1].pause_ms, segs[-1].cont = self.pauses[kind], False
        return segs

    def page(self, chapter: Chapter, page: Page, index: int) -> PageScript:
        script = PageScript(chapter, page, index)
        segs = self._frame(self.say(self.announcement(chapter, page, index)),
                           self.announcement(chapter, page, index, number=str), "announce")
        if page.narration:
            for n, para in enumerate(re.split(r"\n\s*\n", page.narration.strip())):
                segs += _placed(self._para(para), (n,))
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

    def _end_text(self, chapter: Chapter) -> str:
        g = self.guide
        chapters = g.chapters
        i = chapters.index(chapter)
        text = "Fin de l'introduction." if chapter is g.intro else f"Fin {g.levels.chapter.of_the}."
        if i + 1 == len(chapters):
            text += f" C'est la fin du guide {end_with(g.title)} Merci de votre écoute."
        return text

    def chapter(self, chapter: Chapter) -> list[PageScript]:
        pages = [self.page(chapter, p, i) for i, p in enumerate(chapter.pages, 1)]
        text = self._end_text(chapter)  # one clip per sentence, all of kind "cue": the phone cuts them all
        pages[-1].segments += self._frame(self.say(text), text, "cue")
        return pages
