"""Clips + cues + silences -> one chapter WAV (streamed), then loudness-normalised MP3 via ffmpeg."""

from __future__ import annotations

import errno
import logging
import math
import re
import shutil
import subprocess
import wave
from array import array
from functools import lru_cache
from pathlib import Path

from audioguide.exceptions import AudioError
from audioguide.files import explain_os_error, nearly_full
from audioguide.tts.base import RATE, TRIM_THRESHOLD

log = logging.getLogger(__name__)
FFMPEG_INSTALL = "install it with: apt-get install ffmpeg (or run script/bootstrap)"
# MP3 at speech bitrates low-passes the treble that the loudness meter weights up: aim this much higher.
ENCODER_LOSS_DB = 0.6
# Sample-peak ceiling before MP3 (−3 dBFS). The 22 kHz→44.1 kHz resample adds ~0.3 dB of inter-sample peak and
# LAME up to ~1 dB more (e-santé: at 0.79 two chapters in 15 passed −1.1 dBTP and were encoded twice; at 0.71
# the worst is −1.9 dBTP), so the second encode stays for the rare sharp transient only.
LIMIT = 0.71
LIMITER_MAKEUP = 2.0
TRUE_PEAK_MARGIN_DB = 0.1  # our 4x-resampled peak and ebur128's true peak agree within 0.05 dB (e-santé)


def ffmpeg_exe(name: str = "ffmpeg") -> str:
    exe = shutil.which(name)
    if not exe:
        raise AudioError(f"{name} not found.", cause="ffmpeg is not installed", fix=FFMPEG_INSTALL)
    return exe


def encoders() -> list[str]:
    """The versions of ffmpeg (its libraries: filters, resampler, muxers) and of the LAME it encodes with:
    an upgrade of either can change the bytes of every MP3 and phone sound, so both go into their keys."""
    return _encoders(ffmpeg_exe())


@lru_cache(maxsize=4)
def _encoders(exe: str) -> list[str]:
    # One run (~50 ms) tells both: the banner on stderr, and LAME's own version in the Info tag of an MP3.
    proc = subprocess.run([exe, "-nostdin", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.05",
                           "-c:a", "libmp3lame", "-f", "mp3", "-"], capture_output=True)
    banner = [line.strip() for line in proc.stderr.decode("utf-8", "replace").splitlines()
              if line.startswith("ffmpeg version") or line.strip().startswith("lib")]
    lame = re.search(rb"LAME[0-9][0-9.a-z]*", proc.stdout)
    return banner[:8] + [lame.group().decode() if lame else "LAME ?"]


# --- earcons: generated, not downloaded ---------------------------------------------------------

def _tone(freqs: list[float], note_ms: int, gap_ms: int, amp: float) -> array:
    out = array("h")
    n = int(RATE * note_ms / 1000)
    for f in freqs:
        for i in range(n):
            env = min(1.0, i / (0.01 * RATE), (n - i) / (0.04 * RATE))  # 10 ms attack, 40 ms release
            s = math.sin(2 * math.pi * f * i / RATE) + 0.3 * math.sin(4 * math.pi * f * i / RATE)
            out.append(int(amp * 32767 * env * s / 1.3))
        out.extend([0] * int(RATE * gap_ms / 1000))
    return out


@lru_cache(maxsize=None)
def earcon(kind: str) -> bytes:
    """'chapter': a rising three-note chime; 'page': a lighter two-note tick; 'end': a falling pair."""
    if kind == "chapter":
        return _tone([523.25, 659.25, 783.99], 140, 20, 0.5).tobytes()
    if kind == "page":
        return _tone([783.99, 1046.5], 70, 10, 0.3).tobytes()
    if kind == "end":
        return _tone([659.25, 523.25], 120, 20, 0.35).tobytes()
    raise ValueError(kind)


def silence(ms: int) -> bytes:
    return bytes(2 * int(RATE * ms / 1000))


# --- assembly ------------------------------------------------------------------------------------

class WavWriter:
    """Appends PCM to a WAV file and keeps the running time; never holds more than one clip in memory."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.frames = 0
        try:
            self.w = wave.open(str(path), "wb")
        except OSError as exc:
            raise self._explain(exc) from None
        self.w.setnchannels(1)
        self.w.setsampwidth(2)
        self.w.setframerate(RATE)

    def _explain(self, exc: OSError):
        # Assembly happens in a temporary folder under the cache's work/ (Builder.work_dir): a full disk there is
        # the cache's, to be named as such.
        cache = next((p.parent for p in self.path.parents if p.name == "work"), self.path.parent)
        return explain_os_error(exc, cache, what="cache")

    @property
    def seconds(self) -> float:
        return self.frames / RATE

    def add(self, pcm: bytes) -> None:
        try:
            self.w.writeframesraw(pcm)
        except OSError as exc:
            raise self._explain(exc) from None
        self.frames += len(pcm) // 2

    def add_clip(self, clip: Path) -> float:
        """Add a clip without its engine silence; returns the seconds of the clip left out before it."""
        try:
            with wave.open(str(clip)) as r:
                if r.getframerate() != RATE or r.getnchannels() != 1 or r.getsampwidth() != 2:
                    raise AudioError(f"clip {clip.name} is not mono 16-bit {RATE} Hz",
                                     cause="a speech engine returned audio in another format",
                                     fix="clear the clip cache (audioguide build --clean)")
                pcm = r.readframes(r.getnframes())
        except (wave.Error, EOFError, OSError) as exc:  # the cache checks clips first: this is a last guard
            raise AudioError(f"clip {clip} cannot be read ({exc or type(exc).__name__}).",
                             cause="the clip cache was changed or damaged during the build",
                             fix="build again (damaged clips are made again), or use --clean") from None
        kept, skipped = _trim(pcm)
        self.add(kept)
        return skipped / RATE

    def close(self) -> None:
        try:
            self.w.close()
        except OSError as exc:
            raise self._explain(exc) from None


def _trim(pcm: bytes, threshold: int = TRIM_THRESHOLD) -> tuple[bytes, int]:
    """Drop the engine's own leading/trailing silence so our pauses are the ones heard; also returns the
    number of samples dropped before the speech."""
    a = array("h", pcm)
    n = len(a)
    start = 0
    while start < n and abs(a[start]) < threshold:
        start += 1
    end = n
    while end > start and abs(a[end - 1]) < threshold:
        end -= 1
    pad = int(RATE * 0.02)
    return a[max(0, start - pad):min(n, end + pad)].tobytes(), max(0, start - pad)


# --- loudness and encoding -------------------------------------------------------------------------

def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")  # ffmpeg cuts tags mid-character
    if proc.returncode != 0:
        # A full or read-only disk is the user's to fix, and must read as such, not as an ffmpeg failure.
        for code, text in ((errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system"),
                           (errno.EACCES, "Permission denied")):
            if text in proc.stderr:
                raise explain_os_error(OSError(code, text), Path(cmd[-1]).parent)
        raise AudioError(f"ffmpeg failed while {what}: {proc.stderr.strip()[-400:]}",
                         cause="a broken input file or an ffmpeg build without libmp3lame",
                         fix="check `ffmpeg -encoders | grep mp3`; reinstall with apt-get install ffmpeg")
    return proc


def _limit(gain: float, limit: float = LIMIT) -> str:
    return f"volume={gain:.2f}dB,alimiter=limit={limit}:attack=2:release=40:level=0"


def measure_loudness(path: Path, true_peak: bool = False, pre: str = "") -> tuple[float, float | None]:
    """Integrated loudness (LUFS) and, when asked, true peak (dBTP), by ffmpeg's EBU R128 meter."""
    af = (pre + "," if pre else "") + "ebur128=framelog=verbose" + (":peak=true" if true_peak else "")
    proc = _run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path), "-af", af, "-f", "null", "-"],
                f"measuring {path.name}")
    summary = proc.stderr[proc.stderr.rfind("Summary:"):]
    i = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    lufs = float(i.group(1)) if i and i.group(1) != "-inf" else -70.0
    tp = float(peak.group(1)) if peak and peak.group(1) != "-inf" else None
    return lufs, tp


@lru_cache(maxsize=16)
def _loudness_of(path: str, stamp: tuple[int, int, int]) -> float:
    return measure_loudness(Path(path))[0]


def loudness(path: Path) -> float:
    """Integrated loudness (LUFS) of a file, measured once while it is unchanged: a chapter WAV's is needed by
    its MP3's gain and again by the phone pages cut from it, and a meter pass costs ~1 s of CPU per 15 min."""
    st = Path(path).stat()
    return _loudness_of(str(path), (st.st_ino, st.st_size, st.st_mtime_ns))


def gain_to(target: float, lufs: float) -> float:
    """The gain (dB) from a measured loudness to a target, bounded; none for silence."""
    return 0.0 if lufs <= -70 else max(-30.0, min(30.0, target - lufs))


def loudness_gain(wav: Path, settings, limit: float = LIMIT) -> float:
    """The gain (dB) that brings `wav` to the loudness target through the peak limiter.

    Measuring is cheap next to the MP3 encoder: the raw loudness is measured, then the loudness through the
    limiter at that gain, and the limiter's loss is made up."""
    lufs = loudness(wav)
    if lufs <= -70:
        return 0.0
    target = settings.loudness_lufs + ENCODER_LOSS_DB
    gain = gain_to(target, lufs)
    limited, _ = measure_loudness(wav, pre=_limit(gain, limit))
    # The limiter takes about half of any extra gain back on speech (measured slope 0.4-0.6 LU/dB),
    # so the shortfall is made up twice over; where nothing is limited the shortfall is ~0 anyway.
    step = min(LIMITER_MAKEUP * (target - limited), 6.0)
    log.debug("%s: %.1f LUFS through the limiter at %+.2f dB, +%.2f dB more (target %.1f).", wav.name,
              limited, gain, step, target)
    return round(max(-30.0, min(30.0, gain + step)), 2)


def true_peak(path: Path) -> float:
    """True peak (dBTP) of an audio file: its sample peak at 4x the sample rate, as BS.1770 measures it."""
    proc = _run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path), "-af",
                 "aresample=176400,astats=measure_perchannel=none:measure_overall=Peak_level", "-f", "null", "-"],
                f"measuring the peak of {path.name}")
    m = re.search(r"Peak level dB:\s*(-?[\d.]+|-inf)", proc.stderr)
    return float(m.group(1)) if m and m.group(1) != "-inf" else -120.0


def encode_mp3(wav: Path, mp3: Path, settings, gain: float) -> None:
    """Apply the gain, limit peaks, resample and encode CBR mono MP3, bit-exactly.

    The encoder can overshoot the limiter by 2 dB on a sharp transient (measured: 0.81 in, 0.99 out), so the
    MP3's true peak is measured and, where it passes the ceiling, the chapter is encoded again with the
    limiter lowered by the excess and the loudness made up again. The result depends only on the input, so
    builds stay byte-identical."""
    limit = LIMIT
    ceiling = settings.true_peak_db - TRUE_PEAK_MARGIN_DB
    for attempt in range(5):
        af = f"{_limit(gain, limit)},aresample={settings.sample_rate}"
        _run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(wav), "-af", af,
              "-ac", "1", "-ar", str(settings.sample_rate), "-c:a", "libmp3lame", "-b:a",
              f"{settings.bitrate_kbps}k", "-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1",
              "-id3v2_version", "0", "-write_xing", "1", "-f", "mp3", str(mp3)], f"encoding {mp3.name}")
        try:
            excess = true_peak(mp3) - ceiling
        except AudioError:
            if nearly_full(mp3.parent):  # ffmpeg can end a cut MP3 with exit 0 on a full disk
                raise explain_os_error(OSError(errno.ENOSPC, "No space left on device"), mp3.parent) from None
            raise
        if excess <= 0:
            return
        log.debug("%s: true peak %.2f dB over the ceiling; encoding again with a lower limiter.", mp3.name, excess)
        # The margin doubles each time: the made-up loudness can bring back a few hundredths of a dB, and a
        # fixed 0.1 dB step was seen not to converge in four tries (Piper, excess 0.60, then ~0, then 0.03).
        limit = round(limit * 10 ** (-(excess + 0.1 * 2 ** attempt) / 20), 4)
        gain = loudness_gain(wav, settings, limit)
    raise AudioError(f"{mp3.name}: the true peak stays above {settings.true_peak_db} dBTP after limiting",
                     cause="an unusually sharp sound in the speech", fix="report this guide to the developers")


_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)  # MPEG-1 Layer III, kbit/s
_RATES = (44100, 48000, 32000)
SAMPLES_PER_FRAME = 1152
_DEFAULT_HEADER = 0xFFFB50C4  # MPEG-1 Layer III, 64 kbit/s, 44.1 kHz, mono


def mp3_frames(data: bytes, name: str) -> tuple[int, int, int, int]:
    """(start and end offsets of the audio frames, their number, sample rate) of an MPEG-1 Layer III file,
    past the ID3v2 tag and the Xing/Info header frame."""
    pos = 0
    if data[:3] == b"ID3":
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    start, frames, rate = None, 0, 0
    while pos + 4 <= len(data):
        h = int.from_bytes(data[pos:pos + 4], "big")
        if (h >> 21) != 0x7FF or (h >> 19) & 3 != 3 or (h >> 17) & 3 != 1:
            if data[pos:pos + 3] == b"TAG":  # an ID3v1 tag ends the stream
                break
            raise AudioError(f"{name}: not an MPEG-1 Layer III frame at byte {pos}",
                             cause="the file was changed or damaged after encoding",
                             fix="build again with --clean")
        bitrate, rate = _BITRATES[(h >> 12) & 15] * 1000, _RATES[(h >> 10) & 3]
        length = 144 * bitrate // rate + ((h >> 9) & 1)
        side = 17 if (h >> 6) & 3 == 3 else 32  # side-information size: mono or stereo
        if start is None and data[pos + 4 + side:pos + 8 + side] in (b"Xing", b"Info"):
            pos += length
            continue
        if start is None:
            start = pos
        frames += 1
        pos += length
    return (pos if start is None else start), pos, frames, rate


def _info_frame(first_header: int, frames: int, audio_bytes: int) -> bytes:
    """A Xing "Info" frame (the CBR flavour) for a joined stream: frame count, byte count and a seek table,
    so players show the length and seek without scanning. No LAME extension: without its encoder delay and
    padding, players play every frame, which is the timeline our chapter marks are measured on."""
    rate = _RATES[(first_header >> 10) & 3]
    side = 17 if (first_header >> 6) & 3 == 3 else 32
    need = 4 + side + 4 + 4 + 4 + 4 + 100
    index = next(i for i in range(1, 15) if 144 * _BITRATES[i] * 1000 // rate >= need
                 and _BITRATES[i] >= _BITRATES[(first_header >> 12) & 15])
    header = (first_header & ~(0xF << 12) & ~(1 << 9)) | (index << 12)  # that bitrate, no padding bit
    length = 144 * _BITRATES[index] * 1000 // rate
    total = length + audio_bytes
    toc = bytes(min(255, i * 256 // 100) for i in range(100))  # CBR: byte position grows with time
    body = (header.to_bytes(4, "big") + bytes(side) + b"Info" + (7).to_bytes(4, "big")  # frames, bytes, TOC
            + frames.to_bytes(4, "big") + total.to_bytes(4, "big") + toc)
    return body + bytes(length - len(body))


def concat_mp3(parts: list[Path], out: Path) -> list[float]:
    """Join MP3s of identical format without re-encoding (the whole-guide file): an Info header frame, then
    their audio frames, one after the other. Returns each part's duration in the joined stream (priming and
    padding included, as players of the joined file hear them)."""
    durations = []
    frames_total = audio_bytes = 0
    header = None
    with open(out, "wb") as fh:
        for p in parts:
            data = p.read_bytes()
            start, end, frames, rate = mp3_frames(data, p.name)
            if header is None:
                header = int.from_bytes(data[start:start + 4], "big") if end > start else _DEFAULT_HEADER
                fh.write(bytes(len(_info_frame(header, 0, 0))))  # the Info frame's place, filled in below
            fh.write(data[start:end])
            frames_total += frames
            audio_bytes += end - start
            durations.append(frames * SAMPLES_PER_FRAME / rate if rate else 0.0)
        if header is not None:
            fh.seek(0)
            fh.write(_info_frame(header, frames_total, audio_bytes))
    return durations
