"""Data tables, loaded once from narration/data/*.yaml; kept apart from the code that uses them."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml


@lru_cache(maxsize=None)
def table(name: str):
    text = resources.files("audioguide.narration").joinpath("data", f"{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def abbreviations() -> dict[str, str]:
    return table("abbreviations")


def units() -> dict[str, list[str]]:
    return table("units")


def symbols() -> dict[str, str]:
    return table("symbols")


@lru_cache(maxsize=None)
def feminine_nouns() -> frozenset[str]:
    return frozenset(table("feminine"))


def acronyms() -> dict[str, str]:
    return table("acronyms")
