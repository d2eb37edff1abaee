"""Piper: offline neural voices from a .onnx file the user provides (with its .onnx.json)."""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path

from audioguide.exceptions import EngineError
from audioguide.tts.base import RATE, Engine, to_wav
from audioguide.tts.voices import resolve

VOICES_HELP = ("install a French voice with `audioguide voices install fr_FR-siwis-medium`, then pass "
               "--voice fr_FR-siwis-medium (or --voice PATH/NAME.onnx for a file with its .onnx.json beside it)")


@lru_cache(maxsize=2)
def _load(path: str):
    from piper import PiperVoice

    return PiperVoice.load(path)


class PiperEngine(Engine):
    name = "piper"
    description = "Piper neural voices, offline; needs --voice NAME (see `audioguide voices`) or PATH.onnx"

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        try:
            import piper  # noqa: F401
        except ImportError:
            return False, "piper-tts is not installed. Fix: pip install 'audioguide[piper]'"
        return True, "installed; needs --voice NAME or PATH.onnx (" + VOICES_HELP.split(", then")[0] + ")"

    @property
    def voice_path(self) -> Path:
        if not self.settings.voice:
            raise EngineError("The piper engine needs a voice file.", fix=VOICES_HELP)
        return resolve(self.settings.voice)

    def check(self) -> None:
        super().check()
        p = self.voice_path
        if not p.exists():
            raise EngineError(f"Piper voice file not found: {p}", cause="wrong path, or the voice was not downloaded",
                              fix=VOICES_HELP)
        if not Path(str(p) + ".json").exists():
            raise EngineError(f"Piper voice config not found: {p}.json",
                              cause="each .onnx voice comes with a .onnx.json file", fix="put both files side by side")
        try:
            _load(str(p))
        except Exception as exc:
            raise EngineError(f"Piper could not load {p.name}: {exc}", cause="a damaged or incompatible voice file",
                              fix="download the voice again") from None

    def _opt(self, key: str, cast=float):
        v = self.settings.engine_options.get(key)
        return cast(v) if v is not None else None

    def identity(self) -> dict:
        p = self.voice_path
        stat = p.stat() if p.exists() else None
        return {"engine": "piper", "voice": p.name, "size": stat.st_size if stat else 0,
                "speaker": self._opt("speaker", int), "length_scale": self._opt("length_scale"),
                "noise_scale": self._opt("noise_scale"), "noise_w": self._opt("noise_w")}

    def synthesize(self, text: str, wav: Path) -> None:
        from piper import SynthesisConfig

        voice = _load(str(self.voice_path))
        cfg = SynthesisConfig(speaker_id=self._opt("speaker", int), length_scale=self._opt("length_scale"),
                              noise_scale=self._opt("noise_scale"), noise_w_scale=self._opt("noise_w"))
        raw = wav.with_suffix(".piper.wav")
        try:
            with wave.open(str(raw), "wb") as w:
                voice.synthesize_wav(text, w, syn_config=cfg)
            with wave.open(str(raw)) as r:
                same = r.getframerate() == RATE and r.getnchannels() == 1 and r.getsampwidth() == 2
            if same:
                raw.replace(wav)
            else:
                to_wav(raw, wav)
        finally:
            raw.unlink(missing_ok=True)
