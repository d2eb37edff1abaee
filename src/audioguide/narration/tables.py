"""Data tables, loaded once from narration/data/*.yaml; kept apart from the code that uses them."""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources

import yaml


@cache
def table(name: str):
    text = resources.files("audioguide.narration").joinpath("data", f"{name}.yaml").read_text("utf-8")
    # libyaml's loader when present: the pronunciation table took 0.2 s with the pure-Python one, at every build
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def abbreviations() -> dict[str, str]:
    return table("abbreviations")


def units() -> dict[str, list[str]]:
    return table("units")


def symbols() -> dict[str, str]:
    return table("symbols")


@cache
def feminine_nouns() -> frozenset[str]:
    return frozenset(table("feminine"))


def acronyms() -> dict[str, str]:
    return table("acronyms")


def pronunciation() -> dict:
    return table("pronunciation")


def unaccented(word: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", word.replace("œ", "oe").replace("æ", "ae")).encode("ascii", "ignore").decode()


def is_french_word(word: str) -> bool:
    """Is this (any case) in the word list? Accents are compared loosely: capitals often lose them."""
    return unaccented(word.lower()) in french_words()


@lru_cache(maxsize=1)
def french_words() -> dict[str, str]:
    """Debian's wfrench word list (its lower-case words, up to 16 letters), keyed without accents: 'sante' -> 'santé'.
    A key whose words differ only by accents (cote: côte, coté, côté…) maps to itself: nothing is guessed."""
    out: dict[str, str] = {}
    words = _word_list()
    # One call for the whole list (a newline stays a newline): the same keys, for a third of the CPU.
    for word, key in zip(words, unaccented("\n".join(words)).split("\n")):
        out[key] = word if key not in out else key
    return out


@lru_cache(maxsize=1)
def _word_list() -> list[str]:
    import gzip

    raw = resources.files("audioguide.narration").joinpath("data", "words-fr.txt.gz").read_bytes()
    return gzip.decompress(raw).decode("utf-8").split()

