"""The guide's voice, for whatever is said outside the chapters: the phone's prompts, DAISY's spoken title, and
`audioguide listen`. One path from text to audio, so a prompt sounds like the guide."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from audioguide.audio import WavWriter, silence
from audioguide.tts.cache import ClipCache, clip_key

if TYPE_CHECKING:
    from audioguide.guide import Guide
    from audioguide.narration.lexicon import Voice
    from audioguide.narration.pipeline import MemoNormalizer
    from audioguide.narration.script import ScriptWriter, Segment
    from audioguide.tts.base import Engine

Clips = list[tuple[str, str, int]]
"""(text said, clip key, pause after it in ms) for each sentence."""


class Speaker:
    """Narrates and synthesises through the build's engine and clip cache."""

    def __init__(self, guide: Guide, engine: Engine, cache: ClipCache, cache_dir: Path, pace: str | None):
        self.guide, self.engine, self.cache = guide, engine, cache
        self.cache_dir, self.pace = Path(cache_dir), pace

    # Made when first needed: a rebuild with nothing to do never narrates (importing narration was a third of
    # its time).
    @cached_property
    def say(self) -> MemoNormalizer:
        from audioguide.narration.pipeline import MemoNormalizer

        return MemoNormalizer(self.cache_dir, self.guide.lexicon)

    @cached_property
    def writer(self) -> ScriptWriter:
        from audioguide.narration.script import ScriptWriter

        return ScriptWriter(self.guide, self.say, self.pace)  # type: ignore[arg-type]  # a Normalizer by duck

    @cached_property
    def voice(self) -> Voice:
        """What the engine hears: the narration with the lexicon's voice-only fixes (transcripts keep the text)."""
        from audioguide.narration.lexicon import Voice

        return Voice(self.guide.lexicon, getattr(self.engine, "phonemes", False))

    def key(self, text: str) -> str:
        return clip_key(self.engine, self.voice(text))

    def segment_clips(self, segments: list[Segment]) -> Clips:
        return [(seg.text, self.key(seg.text), seg.pause_ms) for seg in segments]

    def prompt_clips(self, text: str) -> Clips:
        """Each sentence of a short prompt, spoken like the guide."""
        return self.segment_clips(self.writer.prompt(text))

    def render(self, clips: Clips, wav: Path, lead_ms: int = 150) -> None:
        """Synthesise what the cache lacks, then lay the clips out with their pauses."""
        w = WavWriter(wav)
        try:
            w.add(silence(lead_ms))
            for text, key, pause in clips:
                self.cache.make(self.engine, self.voice(text), key)
                w.add_clip(self.cache.path(key))
                w.add(silence(pause))
        finally:
            w.close()

    @property
    def work_dir(self) -> Path:
        work = self.cache_dir / "work"
        work.mkdir(parents=True, exist_ok=True)
        return work

    @contextmanager
    def speak(self, clips: Clips) -> Iterator[Path]:
        """The clips rendered into a temporary .wav, removed after the `with`."""
        with tempfile.TemporaryDirectory(dir=self.work_dir) as tmp:
            wav = Path(tmp) / "speech.wav"
            self.render(clips, wav)
            yield wav
