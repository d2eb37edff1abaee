"""The narration pipeline: written French in, speakable French out."""

from __future__ import annotations

from functools import lru_cache

from audioguide.narration import fr
from audioguide.narration.lexicon import merged


class Normalizer:
    """Runs the French steps in order, with the lexicon (default + guide) at its place."""

    def __init__(self, guide_lexicon: dict[str, str] | None = None):
        self.lexicon = merged(guide_lexicon)
        steps = list(fr.STEPS)
        steps.insert(fr.LEXICON_AT, fr.make_lexicon_step(self.lexicon))
        self.steps = steps

    def __call__(self, text: str) -> str:
        for step in self.steps:
            text = step(text)
        return text


@lru_cache(maxsize=8)
def _default() -> Normalizer:
    return Normalizer()


def normalize(text: str, lexicon: dict[str, str] | None = None) -> str:
    """Written French -> what a careful narrator says. Never raises on any text."""
    if lexicon:
        return Normalizer(lexicon)(text)
    return _default()(text)
