"""A test engine: silence as long as the text would take to read. Fast, deterministic, offline."""

from __future__ import annotations

import wave
from pathlib import Path

from audioguide.i18n import N_
from audioguide.tts.base import RATE, Engine


class SilenceEngine(Engine):
    name = "silence"
    description = N_("writes silence timed like speech; for fast tests and dry runs, not for listeners")

    def identity(self) -> dict:
        return {"engine": "silence", "rate": self.settings.words_per_minute}

    def synthesize(self, text: str, wav: Path) -> None:
        words = max(1, len(text.split()))
        frames = int(RATE * 60 * words / self.settings.words_per_minute)
        # A faint tone rather than digital zero, so loudness measurement still has signal.
        import math
        from array import array

        tone = array("h", (int(600 * math.sin(2 * math.pi * 220 * i / RATE)) for i in range(frames)))
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(tone.tobytes())
