"""Acronyms and per-guide pronunciations.

The default French health lexicon lives in data/acronyms.yaml; a guide's `lexicon:` adds to it or
overrides it. An acronym nobody listed is spelled when it cannot be said as a word.

A lexicon value is one of:
- a spoken form ("Éhpade"), or `spell`: written into the narration (transcripts show it too);
- `allow`: the word stays as written, and the speech audit accepts its other-language reading;
- espeak-ng phonemes, `[[…]]`: VOICE ONLY. The narration keeps the written word; `voice_text()` swaps
  the phonemes in just before synthesis, and only for engines that read them (espeak-ng).
The shipped pronunciations (data/pronunciation.yaml) are voice-only too: written text never changes.
"""

from __future__ import annotations

import re
from functools import cache

from audioguide.narration import tables

SPELL = "spell"
ALLOW = "allow"
VOWELS = set("AEIOUYÉÈÊÀÂÎÔÛ")
# Consonant pairs French can start a syllable with; anything else at the start is spelled (CPAM, SNDS).
ONSETS = {"BL", "BR", "CH", "CL", "CR", "DR", "FL", "FR", "GL", "GR", "PH", "PL", "PR", "SC", "SP", "ST", "TH",
          "TR", "VR", "SM", "SN", "SK", "SL"}


def spell(word: str) -> str:
    """'DMP' -> 'D.M.P.': spelled letters that engines read as letter names, and readers recognise."""
    letters = [c for c in word.upper() if c.isalpha()]
    return ".".join(letters) + "."


def sayable(word: str) -> bool:
    """Could a French reader say this all-caps word as a word? Short ones (<= 3 letters) are spelled."""
    w = word.upper()
    if len(w) <= 3 or not any(c in VOWELS for c in w):
        return False
    if w[0] not in VOWELS and w[1] not in VOWELS and w[:2] not in ONSETS:
        return False
    run = 0
    for c in w:
        run = 0 if c in VOWELS else run + 1
        if run >= 3:
            return False
    return True


def is_phonemes(value: str) -> bool:
    return value.startswith("[[") and value.endswith("]]")


def say_acronym(word: str, lexicon: dict[str, str]) -> str:
    rule = lexicon.get(word)
    if rule == ALLOW or (rule and is_phonemes(rule)):
        return word  # voice-only or allowed: the written narration keeps the word
    if rule is None:
        rule = SPELL if not sayable(word) else word.capitalize()
    return spell(word) if rule == SPELL else rule


@cache
def default_lexicon() -> dict[str, str]:
    return dict(tables.acronyms())


def merged(guide_lexicon: dict[str, str] | None) -> dict[str, str]:
    lex = dict(default_lexicon())
    lex.update(guide_lexicon or {})
    return lex


def lexicon_problems(lexicon: dict[str, str]) -> list[tuple[str, str]]:
    """Entries whose spoken form leads back to themselves through other entries (A -> B -> A), and
    phonemes that are not the whole value (other engines would read the brackets out)."""
    broken = [(k, f"'{v}': espeak-ng phonemes must be the whole value, as [[…]], and nothing else")
              for k, v in lexicon.items() if ("[[" in v or "]]" in v) and not is_phonemes(v)]
    words = {k: set(re.findall(r"[\w'-]+", v)) for k, v in lexicon.items()
             if v not in (SPELL, ALLOW) and not is_phonemes(v)}
    problems = []
    for start in lexicon:
        seen, stack = set(), [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in words.get(node, ()):
                if nxt == start and not (node == start and lexicon[start] == start):
                    if len(path) > 1 or lexicon[start].strip() != start:
                        problems.append((start, "this entry loops: " + " -> ".join(path + [start])))
                        stack = []
                        break
                if nxt in lexicon and nxt not in seen and nxt != start:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return broken + problems


# --- voice only ------------------------------------------------------------------------------------
# Everything below changes what the engine hears, never the narration text (transcripts, kiosk).

# Elided words before a phoneme entry: espeak-ng reads "l'[[…]]" as the letter L, so the consonant
# goes inside the brackets.
_ELISION = {"l": "l", "d": "d", "j": "Z", "m": "m", "n": "n", "s": "s", "t": "t", "c": "s", "qu": "k"}


@cache
def pronunciations() -> dict[str, dict[str, str]]:
    """Shipped voice-only fixes: word -> {"espeak": what espeak-ng must hear, "say": for any engine}.
    The reviewed table (pronunciation.yaml) wins over the word-list scan (pronunciation-scan.yaml)."""
    merged_tables = {**(tables.table("pronunciation-scan") or {}), **(tables.pronunciation() or {})}
    return {w: (v if isinstance(v, dict) else {"espeak": v}) for w, v in merged_tables.items()}


def voice_entries(guide_lexicon: dict[str, str] | None, phonemes: bool) -> dict[str, str]:
    """word -> what the engine is given instead. Engines without `phonemes` never receive "[[" ."""
    out: dict[str, str] = {}
    for word, entry in pronunciations().items():
        said = entry.get("espeak") if phonemes else entry.get("say")
        if said and (phonemes or not is_phonemes(said)):
            out[word] = said
    for word, value in (guide_lexicon or {}).items():
        if value == ALLOW:
            out.pop(word, None)
        elif is_phonemes(value):
            if phonemes:
                out[word] = value
            else:
                out.pop(word, None)  # the written word beats another engine's phonemes
    return out


_VOICE_WORD = re.compile(r"(?<![\w-])(?:((?i:qu|[ldjmnstc]))')?([^\W\d_]+(?:-[^\W\d_]+)*)")


def voice_text(text: str, entries: dict[str, str], lower: dict[str, str] | None = None) -> str:
    """Narration -> what the engine is given: each listed word replaced by its voice-only form.
    `lower`: the entries by lower-case word, when the caller has it already (1,000 entries: worth keeping)."""
    if not entries:
        return text
    if lower is None:
        lower = {k.lower(): v for k, v in entries.items()}

    def lookup(word: str) -> str | None:
        return entries.get(word) or lower.get(word.lower())

    def repl(m: re.Match) -> str:
        elided, word = m.group(1), m.group(2)
        said = lookup(word)
        if said is None:
            if "-" not in word:
                return m.group(0)
            said = "-".join(lookup(p) or p for p in word.split("-"))  # e-learning inside micro-e-learning…
            if said == word:
                return m.group(0)
        if is_phonemes(said):
            return f"[[{_ELISION[elided.lower()]}{said[2:]}" if elided else said
        if word[:1].isupper() and said[:1].islower():
            said = said[:1].upper() + said[1:]
        return f"{elided}'{said}" if elided else said

    return _VOICE_WORD.sub(repl, text)


# The last dot of a spelled acronym inside a sentence: engines hear "le D.M.P. est" as a sentence end
# (the voice drops) and "B.P.C.O., insuffisance" as no pause at all (the comma is swallowed). Before a
# capital it is kept: "(AVC). Elle permet" really ends a sentence, and the voice must drop there.
_ACRONYM_DOT = re.compile(r"(?<=[A-ZÀ-Ý]\.[A-ZÀ-Ý])\.(?=[,;:]|\s+[a-zà-ÿ(«])")


# A spelled acronym that starts with I glides onto the word before: "une I.R.M." is heard "une yèrèm".
# "Ih." keeps espeak-ng's I a full vowel of its own (checked with `espeak-ng -v fr -x`: 'i; ,Er'Em). After an
# elision ("l'I.R.M.") there is no glide.
_I_GLIDE = re.compile(r"(?<![\w.'’])I\.(?=[A-ZÀ-Ý](?:\.|\b))")


# "l'H.B.A." after an elision: espeak-ng reads "l'H" as English ("El"); the letter's name keeps it French.
_ELIDED_H = re.compile(r"(?:(?<=\b[lLdDjJmMnNsStTcC]')|(?<=\b[qQ]u'))H\.(?=[A-ZÀ-Ý](?:\.|\b))")


class Voice:
    """The voice-only pass for one guide and one engine: `Voice(lexicon, engine.phonemes)(text)`."""

    def __init__(self, guide_lexicon: dict[str, str] | None = None, phonemes: bool = True):
        self.entries = voice_entries(guide_lexicon, phonemes)
        self.lower = {k.lower(): v for k, v in self.entries.items()}

    def __call__(self, text: str) -> str:
        text = _ELIDED_H.sub("ache.", _I_GLIDE.sub("Ih.", _ACRONYM_DOT.sub("", text)))
        return voice_text(text, self.entries, self.lower)
