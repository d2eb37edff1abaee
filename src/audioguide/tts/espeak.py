"""espeak-ng: the offline default, the voice many screen-reader users already know."""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import wave
from functools import lru_cache
from pathlib import Path

from audioguide.exceptions import EngineError
from audioguide.i18n import N_, _
from audioguide.tts.base import RATE, Engine, fix_label

log = logging.getLogger(__name__)
INSTALL = N_("install it with: apt-get install espeak-ng (or run script/bootstrap)")


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
    description = N_("espeak-ng, offline (default). French voices fr, fr-fr, fr-be, fr-ch, and variants like fr+f3.")

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self._words: dict[str, list[tuple[int, float]]] = {}

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        if not shutil.which("espeak-ng"):
            return False, _("espeak-ng is not installed.") + fix_label() + _(INSTALL)
        return True, f"ready ({espeak_version()})"

    @property
    def voice(self) -> str:
        return self.settings.voice or "fr"

    def check(self) -> None:
        super().check()
        base = self.voice.split("+")[0]
        if base not in french_voices():
            raise EngineError(_("Unknown espeak-ng voice {voice!r}.").format(voice=self.voice),
                              cause=_("the name is not one of espeak-ng's French voices"),
                              fix=_("use one of: {voices} (a variant may follow '+', e.g. fr+f3); see "
                                    "`espeak-ng --voices=fr`").format(
                                  voices=", ".join(v for v in french_voices() if "/" not in v)))

    def identity(self) -> dict:
        # Another data folder is other voices and dictionaries under the same version; named only when set, so
        # the usual clips keep their keys.
        data = os.environ.get("ESPEAK_DATA_PATH")
        return {"engine": "espeak-ng", "version": espeak_version(), "voice": self.voice,
                "rate": self.settings.words_per_minute, "pitch": self.settings.pitch,
                **({"data": data} if data else {})}

    def synthesize(self, text: str, wav: Path) -> None:
        # The library, through a long-lived server that forks a child per text, makes the command line's very
        # samples (tests/test_timing.py) without starting espeak-ng and loading its data for each clip; its word
        # times come with them. Where it fails, the command line speaks and says what went wrong.
        got = None
        if _program(shutil.which("espeak-ng")):
            try:
                got = _SERVERS.synth(text, self.voice, self.settings.words_per_minute, self.settings.pitch)
            except OSError:
                pass
        if got is not None and got[0] and got[2] == RATE:
            pcm = (1, got[2], got[0])
            with _LOCK:  # for word_starts(), which the cache asks next for some clips
                self._words[text] = got[1]
                while len(self._words) > 64:
                    self._words.pop(next(iter(self._words)))
        else:
            pcm = self._command_line(text)
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(pcm[0])
            w.setsampwidth(2)
            w.setframerate(pcm[1])
            w.writeframes(pcm[2])
        _check_rate(wav)

    def _command_line(self, text: str) -> tuple[int, int, bytes]:
        exe = shutil.which("espeak-ng")
        if not exe:
            raise EngineError(_("espeak-ng not found."), fix=_(INSTALL))
        # Text goes through stdin: no argument-length limit, no shell quoting of user text. Audio comes back on
        # stdout and is written here: espeak-ng ignores its own write errors, so on a full disk it left a
        # short clip and exited 0; Python's writes raise instead.
        cmd = self._command(exe) + ["--stdout", "--stdin"]
        try:
            proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, timeout=120)
        except subprocess.TimeoutExpired as exc:
            raise EngineError(_("espeak-ng did not finish within 120 s on the text {text}.").format(
                                  text=_start(text)),
                              cause=_("a very long or unusual text"),
                              fix=_("shorten or rephrase that text in the guide")) from exc
        pcm = _pcm(proc.stdout) if proc.returncode == 0 else None
        if pcm is None:
            raise self._failure(exe, proc, text)
        return pcm

    def word_starts(self, text: str, wav: Path) -> list[tuple[int, float]]:
        """espeak-ng's own word events, from its library: the command line gives none (and `--pho` prints
        nothing for the default voices). With the command line's flags the library makes the same samples as
        `espeak-ng --stdout` (tests/test_timing.py checks it), so the times are those of the clip."""
        with _LOCK:
            known = self._words.pop(text, None)  # synthesize() had them from the library
        if known is not None:
            return known
        try:
            return library_word_starts(text, self.voice, self.settings.words_per_minute, self.settings.pitch)
        except OSError as exc:  # no libespeak-ng.so.1 beside the program: words spread over the speech
            if not _warned:
                _warned.append(exc)
                log.warning(_("The espeak-ng library gives no word timings here (%s): the captions that start "
                              "inside a clip are timed by an estimate."), exc)
            return super().word_starts(text, wav)

    def release(self) -> None:
        _SERVERS.close()

    def _command(self, exe: str) -> list[str]:
        return [exe, "-v", self.voice, "-s", str(self.settings.words_per_minute), "-p", str(self.settings.pitch),
                "-b", "1"]

    def _failure(self, exe: str, proc: subprocess.CompletedProcess, text: str) -> EngineError:
        """Tell "crashed on this text" from "does not work here", by trying a plain sentence."""
        code = proc.returncode
        how = f"crashed ({signal.Signals(-code).name})" if code < 0 and -code in _SIGNALS else f"exit {code}"
        stderr = proc.stderr.decode(errors="replace").strip()[:300]
        detail = f"{how}{': ' + stderr if stderr else ''}"
        try:
            ok = subprocess.run(self._command(exe) + ["--stdout", "--stdin"], input=b"Bonjour.",
                                capture_output=True, timeout=30)
            healthy = ok.returncode == 0 and _pcm(ok.stdout) is not None
        except subprocess.TimeoutExpired:
            healthy = False
        if healthy:
            return EngineError(_("espeak-ng failed on the text {text} ({n} characters; {detail}).").format(
                                   text=_start(text), n=len(text), detail=detail),
                               cause=_("this text makes espeak-ng fail, though it speaks other text: often a "
                                       "very long word, or a long run of capitals or digits it spells out"),
                               fix=_("shorten or rephrase that text in the guide (or add a lexicon entry)"))
        return EngineError(_("espeak-ng failed ({detail}), even on a plain sentence.").format(detail=detail),
                           cause=_("a broken espeak-ng installation or voice data"),
                           fix=_("reinstall with: apt-get install --reinstall espeak-ng espeak-ng-data"))


_SIGNALS = {s.value for s in signal.Signals}
_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _program(exe: str | None) -> bool:
    """Is this espeak-ng the program itself (an ELF file), whose library the server loads? A wrapper script in
    its place may do anything, so it is run as it is."""
    try:
        with open(os.path.realpath(exe or ""), "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def _start(text: str, n: int = 60) -> str:
    """The start of a text, quoted, to find it in the guide."""
    text = " ".join(text.split())
    return f"«{text[:n]}…»" if len(text) > n else f"«{text}»"


def _pcm(data: bytes) -> tuple[int, int, bytes] | None:
    """(channels, rate, samples) of the 16-bit WAV espeak-ng writes on stdout, or None if it is not one.
    A pipe cannot be rewound, so its header gives no lengths: the samples are whatever follows `data`."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    fmt = None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if cid == b"fmt " and size >= 16:
            tag, channels, rate = struct.unpack_from("<HHI", data, pos + 8)
            bits = struct.unpack_from("<H", data, pos + 22)[0]
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            if fmt is None or fmt[0] != 1 or fmt[3] != 16:
                return None
            samples = data[pos + 8:]
            return fmt[1], fmt[2], samples[:len(samples) // 2 * 2]
        pos += 8 + size + (size & 1)
    return None


def _check_rate(wav: Path) -> None:
    with wave.open(str(wav)) as w:
        if w.getframerate() != RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            from audioguide.tts.base import to_wav

            tmp = wav.with_suffix(".conv.wav")
            to_wav(wav, tmp)
            tmp.replace(wav)


_warned: list = []


# --- the library, for word timings ------------------------------------------------------------------------

def library_word_starts(text: str, voice: str, rate: int, pitch: int) -> list[tuple[int, float]]:
    """(character offset in `text`, seconds from the clip's start) of each word espeak-ng says, from its library
    in a process of its own (see espeak_words.py)."""
    return library_synth(text, voice, rate, pitch)[1]


def library_synth(text: str, voice: str, rate: int, pitch: int, audio: Path | None = None) \
        -> tuple[bytes | None, list[tuple[int, float]]]:
    """The library's word times for `text`, and its samples (16-bit mono) when `audio` names a file to put them."""
    pcm, words, _ = _SERVERS.synth(text, voice, rate, pitch)
    if audio:
        audio.write_bytes(pcm)
    return (pcm if audio else None), words


class _Servers:
    """`espeak_words.py --serve` processes, one per thread that asks at the same time: a Python start-up and a
    library initialisation per build worker instead of per text. close() ends the idle ones (Engine.release);
    the next call starts new ones."""

    def __init__(self) -> None:
        self._idle: list[tuple[str | None, subprocess.Popen]] = []
        self._lock = threading.Lock()

    def synth(self, text: str, voice: str, rate: int, pitch: int) -> tuple[bytes, list[tuple[int, float]], int]:
        data_path = os.environ.get("ESPEAK_DATA_PATH")  # read by the library when the server starts
        with self._lock:
            mine = [i for i, (d, _) in enumerate(self._idle) if d == data_path]
            proc = self._idle.pop(mine[-1])[1] if mine else None
        if proc is None:
            script = Path(__file__).with_name("espeak_words.py")
            proc = subprocess.Popen([sys.executable, "-I", "-S", str(script), "--serve"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None and proc.stdout is not None
        data = text.encode("utf-8")
        try:
            proc.stdin.write(json.dumps([voice, rate, pitch, len(data)]).encode() + b"\n" + data)
            proc.stdin.flush()
            head = json.loads(proc.stdout.readline() or b'{"error": "the library\'s process ended"}')
            pcm = proc.stdout.read(head.get("samples", 0))
        except (OSError, ValueError) as exc:
            _end(proc)
            raise OSError(f"the espeak-ng library's process failed ({exc})") from exc
        if "error" in head:
            _end(proc)
            raise OSError(head["error"])
        with self._lock:
            self._idle.append((data_path, proc))
        return pcm, [(int(p), float(t)) for p, t in head["words"]], int(head["rate"])

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _path, proc in idle:
            _end(proc)


def _end(proc: subprocess.Popen) -> None:
    if proc.stdin:
        proc.stdin.close()  # the server's loop ends at end of input
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout:
        proc.stdout.close()


_SERVERS = _Servers()
atexit.register(_SERVERS.close)
