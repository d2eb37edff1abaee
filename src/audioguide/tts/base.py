"""The engine interface: text in, a mono 16-bit WAV at RATE out."""

from __future__ import annotations

import shutil
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path

from audioguide.exceptions import EngineError

RATE = 22050
"""Every engine hands back clips at this rate, so clips from any engine (or a fallback) can be joined."""


class Engine(ABC):
    name = ""
    online = False
    """True when text leaves the machine (privacy: health text goes to a third party)."""
    description = ""
    phonemes = False
    """True when the engine reads espeak-ng `[[…]]` phoneme input; others get the written word or a respelling."""

    def __init__(self, settings):
        self.settings = settings

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        """Can this engine run here? (ok, reason-or-fix)."""
        return True, "ready"

    def check(self) -> None:
        """Raise EngineError with the fix when the engine cannot run with these settings."""
        ok, why = self.probe()
        if not ok:
            raise EngineError(f"The {self.name} engine cannot run here.", cause=why.split(" Fix: ")[0],
                              fix=why.split(" Fix: ")[-1] if " Fix: " in why else None)

    @abstractmethod
    def identity(self) -> dict:
        """Everything besides the text that changes the audio; part of the clip cache key."""

    @abstractmethod
    def synthesize(self, text: str, wav: Path) -> None:
        """Write `text` as speech to `wav` (mono, 16-bit, RATE Hz)."""


def to_wav(src: Path, dst: Path) -> None:
    """Convert any audio file ffmpeg reads into the engines' common WAV format."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise EngineError("ffmpeg not found.", fix="install it with: apt-get install ffmpeg")
    proc = subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(src), "-ac", "1", "-ar", str(RATE),
                           "-sample_fmt", "s16", "-fflags", "+bitexact", "-flags:a", "+bitexact",
                           "-map_metadata", "-1", "-f", "wav", str(dst)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise EngineError(f"ffmpeg could not convert {src.name}: {proc.stderr.strip()[:300]}")
