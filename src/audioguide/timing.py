"""The timing contract: where each page and each clip falls in a chapter's audio.

The builder makes these when it lays a chapter out (build/assembly.py); the manifest, the build state and every
publisher (transcripts, feed, phone, kiosk, EPUB, DAISY) read them. They are TypedDicts, not classes: they are
the JSON of manifest.json as it is, so writing the typed model gives the very bytes the untyped dicts gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NotRequired, TypedDict

SegmentKind = Literal["announce", "heading", "sentence", "paragraph", "item", "last-item", "callout", "link",
                      "cue", "page", "clause"]
"""What a clip is. "announce": the spoken frame ("Page 1 sur 6 : …"); "cue": the end of a chapter ("Fin du
sujet."), not the page's text; the others: the guide's own words, named by what closes them (their pause)."""
END_CUE: SegmentKind = "cue"


class Caption(TypedDict):
    """A piece of a clip that holds several captions, timed by the engine's timing of its first word."""

    start: float
    end: float
    written: str


class Cue(TypedDict):
    """One clip in the chapter audio: from where its speech starts to where it ends (seconds)."""

    start: float
    end: float
    text: str
    """What is said."""
    written: str
    """What readers see."""
    kind: SegmentKind
    cont: bool
    """The sentence goes on in the next cue."""
    block: list[int] | None
    """Where the guide writes these words (narration/script.py Segment.block); None for the frame and end cues."""
    captions: NotRequired[list[Caption]]


class PageTiming(TypedDict):
    id: str
    title: str
    start: float
    end: float
    cues: list[Cue]


class ChapterTiming(TypedDict):
    """A chapter as the build state keeps it: the key of what its audio is made from, and its timings."""

    key: str
    gain_db: float
    pages: list[PageTiming]
    mp3: NotRequired[str]
    sha256: NotRequired[str]
    duration: NotRequired[float]


def end_cue_at(kinds: Sequence[str]) -> int:
    """Where a page's end cues start, from its clips' kinds: the trailing run of "cue" clips (the end cue may be
    several clips, one per sentence), len(kinds) when there is none. The one rule for "the page without its end
    cue": the phone cuts it (it says its own end of topic), the simulator leaves it out, the talking books (EPUB,
    DAISY, kiosk) give it a clip of its own. A page's first clip is never taken for an end cue."""
    n = len(kinds)
    while n > 1 and kinds[n - 1] == END_CUE:
        n -= 1
    return n


def end_cue_start(cues: Sequence[Cue]) -> int:
    """end_cue_at for a page's timed cues."""
    return end_cue_at([c["kind"] for c in cues])


def without_end_cue(cues: Sequence[Cue]) -> list[Cue]:
    """The page's speech, its end cues left out."""
    return list(cues[:end_cue_start(cues)])
