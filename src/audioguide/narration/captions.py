"""Captions: how a clip's written text wraps into caption lines, where a caption may not be cut, and when
each caption of a clip starts."""

from __future__ import annotations

import re
from typing import Protocol

# Caption practice: at most 2 lines of at most 42 characters, cues of 1 to 7 s (the script keeps clips short).
CAPTION_WIDTH, CAPTION_LINES = 42, 2
# Words a caption line should not end on, and what glued() keeps together.
_NUMBERY = re.compile(r"^[\d.,+()]+$")
WEAK_ENDS = {"à", "au", "aux", "de", "du", "des", "d'", "le", "la", "les", "l'", "un", "une", "et", "ou", "en",
             "pour", "par", "dans", "sur", "avec", "sans", "qui", "que", "qu'", "ne", "se", "sa", "son", "ses"}
_BEFORE_NUMBER = re.compile(r"(?i)h|n°|no|p\.|art\.|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|janvier|"
                            r"février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre")


class Captioned(Protocol):
    """A clip as its captions see it (the script's Segment)."""

    text: str
    written: str
    cuts: list[list[int]] | None


def wrap_caption(text: str, width: int = CAPTION_WIDTH) -> list[str]:
    """Caption lines: one if it fits, else the most balanced cut at a space (or after a "/" in an address);
    more than CAPTION_LINES lines only when no cut fits."""
    if len(text) <= width:
        return [text]
    # Never start a line with French spaced punctuation; rather end one on punctuation than on "le" or "de".
    cuts = [(m.start(), m.end()) for m in re.finditer(r" (?![:;?!»])|(?<=/)(?=\S)", text)]
    best = None
    for a, b in cuts:
        first, second = text[:a].rstrip(), text[b:].lstrip()
        if first and second and len(first) <= width and len(second) <= width:
            score = max(len(first), len(second)) - 8 * (first[-1] in ",.;:!?") \
                + 8 * (first.rsplit(" ", 1)[-1].lower() in WEAK_ENDS)
            if best is None or score < best[0]:
                best = (score, [first, second])
    if best:
        return best[1]
    lines, line = [], ""
    for word in text.split(" "):
        while len(word) > width:  # an unbreakable token: cut it, rather than overflow the screen
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def fits_caption(text: str) -> bool:
    return len(wrap_caption(text)) <= CAPTION_LINES


def glued(before: str, after: str) -> bool:
    """Two words a caption never parts: the groups of a number ("10 000", "06 12 34"), a number and what it
    counts or dates ("15 octobre", "8 h 30", "65 %", "20 €") unless a function word follows it, a date's day
    or month and its number ("mardi 15", "octobre 2024"), two capitalised words of a name ("Jean Dupont")."""
    if _NUMBERY.match(before) and _NUMBERY.match(after):
        return True
    if re.search(r"\d$", before) and after.lower() not in WEAK_ENDS:
        return True
    if after[:1].isdigit() and _BEFORE_NUMBER.fullmatch(before):
        return True
    return before[:1].isupper() and after[:1].isupper() and before[-1:].isalpha()


def caption_times(seg: Captioned, voiced: str, words: list, origin: float, start: float, end: float) -> list[dict]:
    """The captions of a clip that holds several (seg.cuts), timed: each starts where the engine starts its
    first word. voiced: the text the engine was given for seg.text (the lexicon's voice-only forms differ);
    words: [offset in voiced, seconds into the clip] for each word; origin: where the clip's first sample is in
    the chapter; start, end: where its speech starts and ends there."""
    import difflib

    ops = difflib.SequenceMatcher(None, seg.text, voiced, autojunk=False).get_opcodes()

    def in_voiced(pos: int) -> int:
        """The start of the engine's word for the word at `pos` in seg.text (a voice-only form may be
        another word, or phonemes, that the alignment matches only in part)."""
        at = next((j1 + (pos - i1 if tag == "equal" else 0) for tag, i1, i2, j1, _ in ops if i1 <= pos < i2),
                  len(voiced))
        while at < len(voiced) and voiced[at].isspace():
            at += 1
        while at > 0 and not voiced[at - 1].isspace():
            at -= 1
        return at

    times: list[float] = []
    for _, said_at in seg.cuts or []:
        at = in_voiced(said_at)
        t = next((origin + s for pos, s in words if pos >= at), None)
        if t is None:  # no word event there: in proportion to the characters
            t = start + (end - start) * said_at / max(len(seg.text), 1)
        times.append(round(min(max(t, times[-1] if times else start, start), end), 3))
    cuts = [0] + [w for w, _ in seg.cuts or []] + [len(seg.written)]
    bounds = [round(start, 3)] + times + [round(end, 3)]
    return [{"start": bounds[k], "end": bounds[k + 1], "written": seg.written[cuts[k]:cuts[k + 1]].strip()}
            for k in range(len(cuts) - 1)]


