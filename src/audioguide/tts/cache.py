"""Content-addressed clip cache: same engine, voice, settings and text -> same clip, never synthesised twice."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from audioguide.files import atomic_path
from audioguide.tts.base import Engine

log = logging.getLogger(__name__)


def clip_key(engine: Engine, text: str) -> str:
    blob = json.dumps({"id": engine.identity(), "text": text}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ClipCache:
    def __init__(self, root: Path, *, ignore_existing: bool = False):
        self.root = Path(root) / "clips"
        self.ignore_existing = ignore_existing
        self._fresh: set[str] = set()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def has(self, key: str) -> bool:
        if self.ignore_existing and key not in self._fresh:
            return False
        return self.path(key).exists()

    def make(self, engine: Engine, text: str, key: str | None = None) -> Path:
        """Synthesise into the cache (atomically) unless the clip is already there."""
        key = key or clip_key(engine, text)
        dest = self.path(key)
        if self.has(key):
            return dest
        with atomic_path(dest, suffix=".wav") as tmp:
            engine.synthesize(text, tmp)
        self._fresh.add(key)
        return dest
