"""Acronyms and per-guide pronunciations.

The default French health lexicon lives in data/acronyms.yaml; a guide's `lexicon:` adds to it or
overrides it. An acronym nobody listed is spelled when it cannot be said as a word.
"""

from __future__ import annotations

import re
from functools import lru_cache

from audioguide.narration import tables

SPELL = "spell"
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


def say_acronym(word: str, lexicon: dict[str, str]) -> str:
    rule = lexicon.get(word)
    if rule is None:
        rule = SPELL if not sayable(word) else word.capitalize()
    return spell(word) if rule == SPELL else rule


@lru_cache(maxsize=None)
def default_lexicon() -> dict[str, str]:
    return dict(tables.acronyms())


def merged(guide_lexicon: dict[str, str] | None) -> dict[str, str]:
    lex = dict(default_lexicon())
    lex.update(guide_lexicon or {})
    return lex


def lexicon_problems(lexicon: dict[str, str]) -> list[tuple[str, str]]:
    """Entries whose spoken form leads back to themselves through other entries (A -> B -> A)."""
    words = {k: set(re.findall(r"[\w'-]+", v)) for k, v in lexicon.items() if v != SPELL}
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
    return problems
