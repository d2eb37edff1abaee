"""espeak-ng: the offline default, the voice many screen-reader users already know."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from audioguide.exceptions import EngineError
from audioguide.tts.base import RATE, Engine

INSTALL = "install it with: apt-get install espeak-ng (or run script/bootstrap)"


@lru_cache(maxsize=1)
def espeak_version() -> str:
    exe = shutil.which("espeak-ng")
    if not exe:
        return ""
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    return out.split("Data at")[0].strip()


@lru_cache(maxsize=1)
def french_voices() -> tuple[str, ...]:
    exe = shutil.which("espeak-ng")
    if not exe:
        return ()
    out = subprocess.run([exe, "--voices=fr"], capture_output=True, text=True).stdout.splitlines()[1:]
    names = set()
    for line in out:
        cols = line.split()
        if len(cols) >= 5:
            names.update({cols[1], cols[3], cols[4].split("/")[-1]})
    return tuple(sorted(names | {"fr"}))


class EspeakEngine(Engine):
    name = "espeak"
    phonemes = True
    description = "espeak-ng, offline (default). French voices fr, fr-fr, fr-be, fr-ch, and variants like fr+f3."

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        if not shutil.which("espeak-ng"):
            return False, f"espeak-ng is not installed. Fix: {INSTALL}"
        return True, f"ready ({espeak_version()})"

    @property
    def voice(self) -> str:
        return self.settings.voice or "fr"

    def check(self) -> None:
        super().check()
        base = self.voice.split("+")[0]
        if base not in french_voices():
            raise EngineError(f"Unknown espeak-ng voice {self.voice!r}.",
                              cause="the name is not one of espeak-ng's French voices",
                              fix=f"use one of: {', '.join(v for v in french_voices() if '/' not in v)} "
                                  "(a variant may follow '+', e.g. fr+f3); see `espeak-ng --voices=fr`")

    def identity(self) -> dict:
        return {"engine": "espeak-ng", "version": espeak_version(), "voice": self.voice,
                "rate": self.settings.rate, "pitch": self.settings.pitch}

    def synthesize(self, text: str, wav: Path) -> None:
        exe = shutil.which("espeak-ng")
        if not exe:
            raise EngineError("espeak-ng not found.", fix=INSTALL)
        # Text goes through stdin: no argument-length limit, no shell quoting of user text.
        cmd = [exe, "-v", self.voice, "-s", str(self.settings.rate), "-p", str(self.settings.pitch),
               "-b", "1", "-w", str(wav), "--stdin"]
        try:
            proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise EngineError("espeak-ng did not finish within 120 s.", cause="a very long or unusual text") from None
        if proc.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
            raise EngineError(f"espeak-ng failed (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[:300]}",
                              cause="a crash of espeak-ng on this text, or a broken installation",
                              fix="reinstall with: apt-get install --reinstall espeak-ng")
        _check_rate(wav)


def _check_rate(wav: Path) -> None:
    import wave

    with wave.open(str(wav)) as w:
        if w.getframerate() != RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            from audioguide.tts.base import to_wav

            tmp = wav.with_suffix(".conv.wav")
            to_wav(wav, tmp)
            tmp.replace(wav)
