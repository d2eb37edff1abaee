"""The engine interface: text in, a mono 16-bit WAV at RATE out."""

from __future__ import annotations

import errno
import re
import shutil
import subprocess
import wave
from abc import ABC, abstractmethod
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from audioguide.exceptions import EngineError
from audioguide.i18n import _

if TYPE_CHECKING:
    from audioguide.config import BuildSettings

RATE = 22050
"""Every engine hands back clips at this rate, so clips from any engine (or a fallback) can be joined."""
TRIM_THRESHOLD = 200
"""Sample level under which a clip's edges are silence (audio.py trims them)."""
MAX_CHARS = 1000
"""Longest text one engine call gets. The longest sentence of the e-santé guide is 359 characters."""
MAX_WORD = 40
"""Longest unbroken run of characters an engine gets. espeak-ng aborts ("stack smashing") on a run of about 90
letters to spell (A.B.C.…); the longest word of the e-santé guide is 27 characters."""


@dataclass(frozen=True)
class Option:
    """One `-o KEY=VALUE` setting an engine accepts: its type, bounds and what it does, in French."""

    kind: type[int] | type[float] | type[str]
    help: str
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    """For text: the whole value must match this regular expression."""
    example: str = ""

    def problem(self, value: str) -> str | None:
        """Why `value` is refused, in French, or None when it is good."""
        if self.kind is str:
            if self.pattern and not re.fullmatch(self.pattern, value):
                return _("“{value}” does not have the expected form ({help})").format(value=value, help=_(self.help))
            return None
        try:
            number = float(value) if self.kind is float else int(value)
        except ValueError:
            what = _("a whole number") if self.kind is int else _("a number (with a point: 1.1)")
            return _("“{value}” is not {what}").format(value=value, what=what)
        if self.minimum is not None and number < self.minimum or self.maximum is not None and number > self.maximum:
            return _("{value} is outside {minimum:g} to {maximum:g}").format(
                value=value, minimum=self.minimum, maximum=self.maximum)
        return None


class Speaks(Protocol):
    """What the clip cache needs of an engine: a name for its messages, and speech into a WAV file."""

    name: str

    def speak(self, text: str, wav: Path) -> None: ...


class Engine(ABC):
    name = ""
    online = False
    """True when text leaves the machine (privacy: health text goes to a third party)."""
    description = ""
    phonemes = False
    """True when the engine reads espeak-ng `[[…]]` phoneme input; others get the written word or a respelling."""

    max_chars = MAX_CHARS
    """Longer text is split into several calls (see bound_text)."""
    max_word = MAX_WORD
    """Longer runs without a space are broken up (see bound_text)."""
    options: ClassVar[dict[str, Option]] = {}
    """The `-o KEY=VALUE` settings this engine reads; any other key is refused before a build starts."""

    def __init__(self, settings: BuildSettings):
        self.settings = settings

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        """Can this engine run here? (ok, reason-or-fix)."""
        return True, "ready"

    def check(self) -> None:
        """Raise EngineError with the fix when the engine cannot run with these settings."""
        ok, why = self.probe()
        if not ok:
            cause, sep, fix = why.partition(fix_label())
            raise EngineError(_("The {name} engine cannot run here.").format(name=self.name), cause=cause,
                              fix=fix if sep else None)

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Everything besides the text that changes the audio; part of the clip cache key."""

    @abstractmethod
    def synthesize(self, text: str, wav: Path) -> None:
        """Write `text` as speech to `wav` (mono, 16-bit, RATE Hz)."""

    def word_starts(self, text: str, wav: Path) -> list[tuple[int, float]]:
        """(offset in `text`, seconds into the clip `wav`) where each word starts: the times of the captions that
        start inside a clip. Engines that report word timings override this (espeak-ng). This fallback, for
        engines that do not (gTTS; Piper when its voice has no duration tensor or its words are not the
        text's), spreads the clip's speech,
        from its first to its last sample above the trim threshold, over the words in proportion to their
        letters and digits: about a word off on a long clause, so a caption may show a word early or late."""
        with wave.open(str(wav)) as r:
            pcm = array("h", r.readframes(r.getnframes()))
            rate = r.getframerate()
        start = next((i for i, v in enumerate(pcm) if abs(v) >= TRIM_THRESHOLD), 0)
        end = next((len(pcm) - i for i, v in enumerate(reversed(pcm)) if abs(v) >= TRIM_THRESHOLD), len(pcm))
        words = [(m.start(), len(re.findall(r"\w", m.group()))) for m in re.finditer(r"\S+", text)]
        total = sum(n for _, n in words) or 1
        out, done = [], 0
        for pos, n in words:
            out.append((pos, (start + (end - start) * done / total) / rate))
            done += n
        return out

    def release(self) -> None:  # noqa: B027 (optional hook: most engines keep nothing)
        """Called when the synthesis stage is over: free memory kept to make the next call quick. The engine
        must still work if called again (the phone publisher's prompts come later)."""

    def speak(self, text: str, wav: Path) -> None:
        """synthesize() with the text bounded: over-long text goes in several calls, joined with no gap."""
        pieces = bound_text(text, self.max_chars, self.max_word)
        if len(pieces) == 1:
            self.synthesize(pieces[0], wav)
            return
        parts = [wav.with_name(f"{wav.name}.{i}.wav") for i in range(len(pieces))]
        try:
            for piece, part in zip(pieces, parts):
                self.synthesize(piece, part)
            with wave.open(str(wav), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                for part in parts:
                    with wave.open(str(part)) as r:
                        out.writeframes(r.readframes(r.getnframes()))
        finally:
            for part in parts:
                part.unlink(missing_ok=True)


def bound_text(text: str, max_chars: int = MAX_CHARS, max_word: int = MAX_WORD) -> list[str]:
    """Split `text` into pieces of at most `max_chars` characters, cut at a sentence end, else a clause, else a
    word, after breaking every run of more than `max_word` characters without a space (at a dot, hyphen or
    slash when there is one)."""
    text = re.sub(rf"\S{{{max_word + 1},}}", lambda m: _break_word(m.group(), max_word), text)
    if len(text) <= max_chars:
        return [text]  # as given: the engine hears exactly what it always did
    text = text.strip()
    pieces = []
    while len(text) > max_chars:
        window = text[:max_chars + 1]
        cut = 0
        for pattern in (r"[.!?…:;]\s", r",\s", r"\s"):
            ends = [m.end() for m in re.finditer(pattern, window)]
            if ends and (ends[-1] > max_chars // 3 or pattern == r"\s"):
                cut = ends[-1]
                break
        cut = cut or max_chars  # unreachable while max_word < max_chars: a window always holds a space
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    return pieces + [text] if text else pieces


def _break_word(word: str, limit: int) -> str:
    out = []
    while len(word) > limit:
        window = word[:limit]
        cut = max(window.rfind(c) for c in ".-/_") + 1
        cut = cut if cut > limit // 2 else limit
        out.append(word[:cut])
        word = word[cut:]
    return " ".join(out + [word] if word else out)


def fix_label() -> str:
    """What separates a probe's reason from its fix (`audioguide engines` prints both; check() splits them)."""
    return " " + _("Fix:") + " "


def to_wav(src: Path, dst: Path) -> None:
    """Convert any audio file ffmpeg reads into the engines' common WAV format."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise EngineError(_("ffmpeg not found."), fix=_("install it with: apt-get install ffmpeg"))
    proc = subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(src), "-ac", "1", "-ar", str(RATE),
                           "-sample_fmt", "s16", "-fflags", "+bitexact", "-flags:a", "+bitexact",
                           "-map_metadata", "-1", "-f", "wav", str(dst)], capture_output=True, text=True)
    if proc.returncode != 0:
        if "No space left on device" in proc.stderr:  # the cache's disk, to be explained as such by the caller
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        raise EngineError(_("ffmpeg could not convert {file}: {error}").format(file=src.name,
                                                                             error=proc.stderr.strip()[:300]))
