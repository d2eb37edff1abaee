"""Narration: guide pages -> speakable French scripts."""

from audioguide.narration.pipeline import Normalizer, normalize

__all__ = ["Normalizer", "normalize"]
