"""The written form of a guide's text and its sentences: what a reader sees, in the transcripts, books, kiosk,
tags and feed, and the sentences the narration is cut into. Nothing here is spelled out for the voice."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set as AbstractSet
from functools import lru_cache

from audioguide.narration.inline import INVISIBLE, plain

MAX_SEGMENT_CHARS = 600  # engines (gTTS, espeak) behave best on sentence-sized input


def written_form(text: str) -> str:
    """The guide's text for readers: markup read (narration.inline) and dropped, typography normalised, nothing
    spelled out."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u02bc", "'")
    text = plain(re.sub(r"(?m)^\s*#{1,6}\s+", "", text))
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def lower_first(title: str) -> str:
    """A title as said after "Pour …": "La télésanté" -> "la télésanté"; "DMP" keeps its capitals."""
    if len(title) > 1 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title


def end_with(text: str, mark: str = ".") -> str:
    text = text.strip().rstrip(",;")
    return text if text[-1:] in ".!?…:" else text + mark


# Words with a dot that do not end a sentence, even before a capital: titles and the words that introduce a
# number, a name or an address ("M. Leroux", "Dr. Martin", "art. L. 1111-2", "bât. B", "av. Jean Jaurès").
# The abbreviation table's dotted words join them, except those that may end a sentence ("etc.", "min.").
_NEVER_LAST = {"M", "MM", "Mme", "Mmes", "Mlle", "Mlles", "Dr", "Drs", "Pr", "Me", "Mgr", "St", "Ste",
               "art", "al", "p", "pp", "n", "no", "n°", "nos", "cf", "ex", "réf", "ref", "tél", "tel", "fax", "av",
               "bd", "boul", "bât", "bat", "esc", "apt", "appt", "env", "approx", "resp", "vol", "chap", "fig",
               "éd", "coll", "dir", "hôp", "pharm", "c.-à-d", "i.e", "e.g", "p. ex", "c. à s", "c. à c", "ca"}
_MAY_END = {"etc", "min", "max", "hab", "mat", "sem"}
"""Dotted abbreviations of the table that a sentence may end on ("… et les vaccins, etc. Ensuite…")."""
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-Ý«\"'])")


@lru_cache(maxsize=1)
def _never_last() -> frozenset[str]:
    from audioguide.narration.tables import abbreviations

    words = {k[:-1] for k in abbreviations() if k.endswith(".")} - _MAY_END | _NEVER_LAST
    return frozenset({w.lower() for w in words if not w[:1].isupper()} | {w for w in words if w[:1].isupper()})


def _ends_sentence(before: str, never_last: AbstractSet[str]) -> bool:
    """Does the dot ending `before` end a sentence, the next word starting with a capital?"""
    if before[-1:] != ".":
        return True
    word = m.group() if (m := re.search(r"[^\s(«\"']*$", before[:-1])) else ""  # `*$` always matches
    if re.fullmatch(r"(?:[A-ZÀ-Ý]\.)+[A-ZÀ-Ý]", word):  # "Le D.M.P. Mon espace": the dot is the acronym's
        return False
    if word in never_last or len(word) > 1 and word.lower() in never_last:  # "env." or, first, "Env."
        return False
    # "c. à s." / "p. ex.": the abbreviation is two words
    if " ".join(re.findall(r"\S+", before[:-1])[-2:]).lower() in never_last:
        return False
    # An initial before a name ("J. Dupont", "Dr J.-P. Martin"), not a letter ending a sentence ("vitamine D.")
    if re.fullmatch(r"(?:[A-ZÀ-Ý]\.-?)*[A-ZÀ-Ý]", word):
        if "-" in word:  # "J.-P.": a compound first name's initials, whatever word comes before
            return False
        prev = re.findall(r"\S+", before[:-1])[-2:-1]
        return bool(prev) and not (prev[0][:1].isupper() or prev[0].rstrip(".").lower() in never_last)
    return True


def split_sentences(text: str) -> list[str]:
    """Split text at sentence ends; overlong sentences are cut at commas, then at spaces. A dot after an
    abbreviation ("M. Leroux", "art. L. 1111-2") or inside a spelled acronym ("Le D.M.P. Mon espace…") ends
    nothing."""
    never_last = _never_last()
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if _ends_sentence(text[start:m.start()], never_last):
            parts.append(text[start:m.start()].strip())
            start = m.end()
    parts = [p for p in parts + [text[start:].strip()] if p]
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


def join_sentences(segments, spoken: bool = False) -> str:
    """Segments (or cue dicts) back into whole sentences, one per line: written form, or spoken."""
    lines, cur = [], ""
    for s in segments:
        key = "text" if spoken else "written"
        written, cont = (s[key], s.get("cont", False)) if isinstance(s, dict) else (getattr(s, key), s.cont)
        cur = f"{cur} {written}" if cur else written
        if not cont:
            lines.append(cur)
            cur = ""
    return "\n".join(lines + ([cur] if cur else []))



