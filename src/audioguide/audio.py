"""Clips + cues + silences -> one chapter WAV (streamed), then loudness-normalised MP3 via ffmpeg."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import math
import os
import re
import shutil
import subprocess
import wave
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain
from pathlib import Path

import numpy as np

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
AUDIO_CHAIN = 2  # bump when the meters or the phone chain change output bytes in a way no version shows
TRUE_PEAK_MARGIN_DB = 0.1  # our 4x peak (Meter) and ebur128's true peak agree within 0.01 dB (e-santé)


def ffmpeg_exe(name: str = "ffmpeg") -> str:
    exe = shutil.which(name)
    if not exe:
        raise AudioError(f"{name} not found.", cause="ffmpeg is not installed", fix=FFMPEG_INSTALL)
    return exe


def encoders() -> list[str]:
    """The versions of ffmpeg (its libraries: filters, resampler, muxers) and of the LAME it encodes with:
    an upgrade of either can change the bytes of every MP3 and phone sound, so both go into their keys; so do
    the version of our own chain (meters, phone cuts) and numpy's (the meter's arithmetic sets each gain)."""
    return _encoders(ffmpeg_exe()) + [f"audioguide audio chain {AUDIO_CHAIN}", f"numpy {np.__version__}"]


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


@cache
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
    a = np.frombuffer(pcm, "<i2", len(pcm) // 2)
    n = len(a)
    loud = np.flatnonzero((a >= threshold) | (a <= -threshold))  # not abs(): |-32768| is not an int16
    start, end = (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (n, n)
    pad = int(RATE * 0.02)
    return a[max(0, start - pad):min(n, end + pad)].tobytes(), max(0, start - pad)


# --- loudness and encoding -------------------------------------------------------------------------

def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")  # ffmpeg cuts tags mid-character
    # ffmpeg exits 0 when a full disk stops it only at its trailer (a 10 s MP3 on 64 kB left): its file is cut.
    if proc.returncode != 0 or "No space left on device" in proc.stderr:
        _failed(cmd, proc.stderr, what)
    return proc


def _failed(cmd: list[str], stderr: str, what: str):
    # A full or read-only disk is the user's to fix, and must read as such, not as an ffmpeg failure.
    for code, text in ((errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system"),
                       (errno.EACCES, "Permission denied")):
        if text in stderr:
            raise explain_os_error(OSError(code, text), Path(cmd[-1]).parent)
    raise AudioError(f"ffmpeg failed while {what}: {stderr.strip()[-400:]}",
                     cause="a broken input file or an ffmpeg build without libmp3lame",
                     fix="check `ffmpeg -encoders | grep mp3`; reinstall with apt-get install ffmpeg")


CHUNK = 1 << 20  # samples read at a time: a meter's memory does not grow with the file


def _pcm(cmd: list[str], what: str):
    """Mono float32 samples that an ffmpeg command writes to its standard output (`-f f32le -`), in pieces."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None  # both piped
    try:
        rest = b""
        while data := proc.stdout.read(4 * CHUNK):
            data, rest = rest + data, b""
            if len(data) % 4:
                data, rest = data[:len(data) // 4 * 4], data[len(data) // 4 * 4:]
            yield np.frombuffer(data, "<f4")
        stderr = proc.stderr.read().decode("utf-8", "replace")
    finally:
        proc.stdout.close()
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        _failed(cmd, stderr, what)


def _wav_pcm(path: Path):
    """The samples of a mono 16-bit WAV (what WavWriter writes), in pieces, scaled to ±1 as ffmpeg reads them."""
    with wave.open(str(path)) as r:
        if r.getnchannels() != 1 or r.getsampwidth() != 2:
            raise AudioError(f"{Path(path).name} is not a mono 16-bit WAV", cause="an unexpected input file",
                             fix="report this to the developers")
        while data := r.readframes(CHUNK):
            yield np.frombuffer(data, "<i2") / 32768.0


def _k_weighting(rate: int) -> list[tuple[tuple[float, float, float], tuple[float, float]]]:
    """BS.1770's K-weighting (a +4 dB shelf over ~1.7 kHz, a high-pass at 38 Hz) as two biquads for any rate,
    derived as libebur128 and ffmpeg's ebur128 derive them: (b0, b1, b2), (a1, a2) each."""
    f0, g, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (g / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0), \
        (2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    return [shelf, ((1.0, -2.0, 1.0), (2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0))]


@lru_cache(maxsize=8)
def _k_response(rate: int) -> np.ndarray:
    """The K-weighting's impulse response over ~0.05-0.1 s: the high-pass's double pole has decayed by e^-20
    by then, so filtering with it (by FFT) matches the recursive filter to ~1e-8 of the signal."""
    x = [1.0] + [0.0] * ((1 << math.ceil(math.log2(rate / 20))) - 1)
    for (b0, b1, b2), (a1, a2) in _k_weighting(rate):
        y, x1, x2, y1, y2 = [], 0.0, 0.0, 0.0, 0.0
        for v in x:
            out = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            x2, x1, y2, y1 = x1, v, y1, out
            y.append(out)
        x = y
    return np.array(x)


TP_HALF = 24  # the true-peak interpolator spans 2 x 24 samples (BS.1770 annex 2: 48 taps a phase)
# Where the true peak is searched: around the samples whose own value, or a 4-point estimate of the signal half
# way to the next, comes within this of the loudest such estimate so far (~3 % of a chapter's samples). The
# estimate reads a tone of a quarter of the rate 0.7 dB low, of 0.36 of it (16 kHz at 44.1 kHz, where a speech
# MP3 has nothing) 4.4 dB low, and the samples and the half-way point are within 0.7 dB of the peak between
# them up to a quarter of the rate.
TP_SEARCH_DB = 4.0


@lru_cache(maxsize=1)
def _tp_phases() -> np.ndarray:
    """Kaiser-windowed sinc interpolators for the signal at 1/4, 2/4 and 3/4 of the way from sample n to n+1,
    from samples n-23 .. n+24 (row k for sample n-23+k): 4x oversampling, as BS.1770 measures a true peak."""
    k = np.arange(-TP_HALF + 1, TP_HALF + 1)
    cols = []
    for p in (0.25, 0.5, 0.75):
        u = p - k
        h = np.sinc(u) * np.i0(8.0 * np.sqrt(np.clip(1 - (u / (TP_HALF + 1)) ** 2, 0, None))) / np.i0(8.0)
        cols.append(h / h.sum())
    return np.stack(cols, axis=1).astype(np.float32)


class Meter:
    """Integrated loudness (BS.1770-4: K-weighted, 400 ms blocks every 100 ms, gated at −70 LUFS and −10 LU) and,
    if asked, true peak (4x oversampled) of mono samples fed in pieces, in this process. It follows ffmpeg's
    ebur128 filter (the same filter derivation, the same blocks: the first ends at 400 ms, a last part-block is
    left out) and agrees with it within 0.1 LU and 0.1 dB (tests/test_meter.py). The build's caller holds the
    samples already, and ffmpeg's meter costs ~3 times as much a sample."""

    def __init__(self, rate: int, loudness: bool = True, true_peak: bool = False):
        self.step = rate // 10
        self.measures_loudness, self.true_peak = loudness, true_peak
        if loudness:
            h = _k_response(rate)
            self.taps = len(h)
            self.nfft = 8 * self.taps
            self.spec = np.fft.rfft(h, self.nfft)
            self.tail = np.zeros(self.taps - 1)
        self.carry = self.plain_carry = np.zeros(0)
        self.sums: list[np.ndarray] = []
        self.plain_sums: list[np.ndarray] = []  # the same steps' energy without the K-weighting
        self.peak = self.rough = 0.0
        self.history = np.zeros(2 * TP_HALF, np.float32)

    def feed(self, x: np.ndarray) -> None:
        if not len(x):
            return
        if self.measures_loudness:
            x64 = np.asarray(x, dtype=np.float64)
            k = self._k_weighted(x64)
            self.carry = _step_sums(self.carry, k * k, self.step, self.sums)
            self.plain_carry = _step_sums(self.plain_carry, x64 * x64, self.step, self.plain_sums)
        if self.true_peak:
            self._peaks(np.asarray(x, dtype=np.float32))

    def _k_weighted(self, x: np.ndarray) -> np.ndarray:
        """x through the K-weighting (FFT overlap-add), its tail carried over to the next piece."""
        step = self.nfft - self.taps + 1
        m = -(-len(x) // step)
        blocks = np.zeros((m, self.nfft))  # padded here, once: rfft(…, n) would copy each block again
        full, rest = divmod(len(x), step)
        blocks[:full, :step] = x[:full * step].reshape(full, step)
        if rest:
            blocks[full, :rest] = x[full * step:]
        rows = np.fft.irfft(np.fft.rfft(blocks, axis=1) * self.spec, self.nfft, axis=1)
        y = np.empty((m + 1) * step)
        y[:m * step].reshape(m, step)[:] = rows[:, :step]
        y[m * step:] = 0
        y[step:].reshape(m, step)[:, :self.taps - 1] += rows[:, step:]
        y[:self.taps - 1] += self.tail
        self.tail = y[len(x):len(x) + self.taps - 1].copy()
        return y[:len(x)]

    def _peaks(self, x: np.ndarray) -> None:
        """The sample peak, and the signal at a quarter, half and three quarters of the way between samples n and
        n+1 wherever a quick estimate says the peak may be near; the last TP_HALF samples wait for the next
        piece (their interpolators reach into it)."""
        buf = np.concatenate([self.history, x])
        self.history = buf[-2 * TP_HALF:]
        a, b = TP_HALF, len(buf) - TP_HALF  # interpolate between n and n+1 for n in [a, b)
        mag = np.abs(buf)
        # In place, in the same order as |9 (x[n] + x[n+1]) - (x[n-1] + x[n+2])| / 16: the same float32 values.
        rough = np.add(buf[a:b], buf[a + 1:b + 1])
        rough *= 9
        rough -= np.add(buf[a - 1:b - 1], buf[a + 2:b + 2])
        np.abs(rough, out=rough)
        rough /= 16
        np.maximum(rough, mag[a:b], out=rough)
        np.maximum(rough, mag[a + 1:b + 1], out=rough)
        self.rough = max(self.rough, float(rough.max(initial=0.0)))
        n = np.flatnonzero(rough >= self.rough * 10 ** (-TP_SEARCH_DB / 20)) + a
        self.peak = max(self.peak, float(mag[2 * TP_HALF:].max(initial=0.0)))
        # The half-way points first; the quarter points only where the signal comes within 2 dB of the peak
        # (between a sample and the half-way point the signal moves less than that below a quarter of the rate).
        for phases in ((1,), (0, 2)):
            if not len(n):
                break
            near = self._interpolate(buf, n, phases)
            self.peak = max(self.peak, float(near.max()))
            n = n[np.maximum(near, np.maximum(mag[n], mag[n + 1])) >= self.peak * 10 ** (-2 / 20)]

    @staticmethod
    def _interpolate(buf: np.ndarray, n: np.ndarray, phases: tuple[int, ...]) -> np.ndarray:
        """The largest magnitude of the signal at the given phases (0, 1, 2: 1/4, 2/4, 3/4) between n and n+1.
        Tap by tap, not a matrix product: numpy's BLAS would start threads that spin on the other core."""
        taps = _tp_phases()
        accs = [np.zeros(len(n), np.float32) for _ in phases]
        at, tmp = n + (1 - TP_HALF), np.empty(len(n), np.float32)
        for k in range(2 * TP_HALF):
            near = buf[at]  # each sample gathered once for all the phases
            for acc, p in zip(accs, phases):
                np.multiply(near, taps[k, p], out=tmp)
                acc += tmp
            at += 1
        out = np.abs(accs[0])
        for acc in accs[1:]:
            np.maximum(out, np.abs(acc), out=out)
        return out

    def loudness(self) -> float:
        """Integrated loudness in LUFS; −70 for silence or under 400 ms, as ffmpeg reports them."""
        return integrated(np.concatenate(self.sums) if self.sums else np.zeros(0), self.step)

    def peak_db(self) -> float:
        """True peak in dBTP (the sample peak where nothing else was fed), −120 for silence."""
        if self.true_peak:
            self._peaks(np.zeros(TP_HALF, np.float32))  # the last samples' interpolators, against silence after
        return 20 * math.log10(self.peak) if self.peak > 0 else -120.0


def _step_sums(carry: np.ndarray, sq: np.ndarray, step: int, out: list) -> np.ndarray:
    """Append the sums of whole steps of squares to `out`; returns what is left for the next piece."""
    sq = np.concatenate([carry, sq])
    n = len(sq) // step * step
    out.append(sq[:n].reshape(-1, step).sum(axis=1))
    return sq[n:]


def integrated(sums: np.ndarray, step: int) -> float:
    """BS.1770 integrated loudness from the K-weighted energy of each 100 ms step: 400 ms blocks every 100 ms,
    gated at −70 LUFS, then 10 LU under the loudness of the blocks kept. −70 for silence or under 400 ms."""
    if len(sums) < 4:
        return -70.0
    c = np.concatenate([[0.0], np.cumsum(sums)])
    power = (c[4:] - c[:-4]) / (4 * step)
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(power)
    kept = power[lk >= -70]
    if not kept.size:
        return -70.0
    gate = -0.691 + 10 * math.log10(kept.mean()) - 10
    return -0.691 + 10 * math.log10(kept[lk[lk >= -70] >= gate].mean())


def meter(pieces, rate: int, loudness: bool = True, true_peak: bool = False) -> Meter:
    m = Meter(rate, loudness, true_peak)
    for x in pieces:
        m.feed(x)
    return m


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
def _steps_of(path: str, stamp: tuple[int, int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    with wave.open(path) as r:
        rate = r.getframerate()
    m = meter(_wav_pcm(Path(path)), rate)

    def cat(parts: list) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0)

    return rate // 10, cat(m.sums), cat(m.plain_sums)


def _steps(path: Path) -> tuple[int, np.ndarray, np.ndarray]:
    """(samples a step, K-weighted and plain energy of each 100 ms step) of a mono 16-bit WAV, measured once
    while the file is unchanged: a chapter WAV's is needed by its MP3's gain, through the limiter, and by the
    phone pages cut from it."""
    st = Path(path).stat()
    return _steps_of(str(path), (st.st_ino, st.st_size, st.st_mtime_ns))


def loudness(path: Path) -> float:
    """Integrated loudness (LUFS) of a mono 16-bit WAV, by the in-process meter."""
    step, sums, _ = _steps(path)
    return integrated(sums, step)


@dataclass
class Tap:
    """Other outputs of a chapter's limiter pass (limited_loudness), made in the same ffmpeg run: one start
    and one read of the WAV fewer. chains: (filters, output label), each fed the chapter's samples; outputs:
    the ffmpeg options and files that map those labels; finish: runs once ffmpeg has written them."""
    chains: list[tuple[str, str]]
    outputs: list[str]
    finish: Callable[[], None]


def limited_loudness(wav: Path, gain: float, limit: float = LIMIT, taps: Sequence[Tap] = ()) -> float:
    """Integrated loudness (LUFS) of `wav` through the gain and ffmpeg's limiter. ffmpeg limits; each 100 ms
    step's K-weighted energy is the raw one's times what the limiter left of its plain energy. The limiter's
    gain moves slowly next to the K-weighting's short response, so this reads as the meter on the limited
    samples does, within 0.01 LU at +8 dB and 0.03 at +12 (tests/test_meter.py), for a fifth of its CPU."""
    step, sums, plain = _steps(wav)
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(wav), "-af", _limit(gain, limit), "-ac", "1",
           "-f", "f32le", "-"]
    chains = [c for t in taps for c in t.chains]
    if chains:
        labels = "".join(f"[tap{k}]" for k in range(len(chains)))
        graph = [f"[0:a]asplit={1 + len(chains)}[limit]{labels}", f"[limit]{_limit(gain, limit)}[limited]"]
        graph += [f"[tap{k}]{filters}[{label}]" for k, (filters, label) in enumerate(chains)]
        cmd[cmd.index("-af"):cmd.index("-af") + 2] = ["-filter_complex", ";".join(graph), "-map", "[limited]"]
        cmd += [o for t in taps for o in t.outputs]
    carry, out = np.zeros(0), list[np.ndarray]()
    for y in _pcm(cmd, f"measuring {wav.name}"):
        y = y.astype(np.float64)
        carry = _step_sums(carry, y * y, step, out)
    limited = np.concatenate(out) if out else np.zeros(0)
    n = min(len(limited), len(plain))
    for t in taps:
        t.finish()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(plain[:n] > 0, limited[:n] / plain[:n], 10 ** (gain / 10))
    return integrated(sums[:n] * ratio, step)


def gain_to(target: float, lufs: float) -> float:
    """The gain (dB) from a measured loudness to a target, bounded; none for silence."""
    return 0.0 if lufs <= -70 else max(-30.0, min(30.0, target - lufs))


def loudness_gain(wav: Path, settings, limit: float = LIMIT, taps: Sequence[Tap] = ()) -> float:
    """The gain (dB) that brings `wav` to the loudness target through the peak limiter.

    Measuring is cheap next to the MP3 encoder: the raw loudness is measured, then the loudness through the
    limiter at that gain (with the taps' outputs; none run for silence), and the limiter's loss is made up."""
    lufs = loudness(wav)
    if lufs <= -70:
        return 0.0
    target = settings.loudness_lufs + ENCODER_LOSS_DB
    gain = gain_to(target, lufs)
    limited = limited_loudness(wav, gain, limit, taps)
    # The limiter takes about half of any extra gain back on speech (measured slope 0.4-0.6 LU/dB),
    # so the shortfall is made up twice over; where nothing is limited the shortfall is ~0 anyway.
    step = min(LIMITER_MAKEUP * (target - limited), 6.0)
    log.debug("%s: %.1f LUFS through the limiter at %+.2f dB, +%.2f dB more (target %.1f).", wav.name,
              limited, gain, step, target)
    return round(max(-30.0, min(30.0, gain + step)), 2)


# libmpg123 and ffmpeg decode the same MP3 to samples that differ by up to 2e-6 of full scale (e-santé's
# chapters; tests/test_meter.py checks 1e-5), under 1e-4 dB at the ceiling: a peak decoded by libmpg123 is read
# this much higher, so the check is never laxer than ffmpeg's decode would make it.
MPG123_SLACK_DB = 0.001
_MPG123_ADD_FLAGS, _MPG123_QUIET, _MPG123_GAPLESS, _MPG123_FORCE_FLOAT = 2, 0x20, 0x40, 0x400
_MPG123_ENC_FLOAT_32, _MPG123_OK, _MPG123_NEED_MORE, _MPG123_NEW_FORMAT = 0x200, 0, -10, -11


@cache
def _mpg123():
    """libmpg123 (Debian's libmpg123-0, which ffmpeg's packages depend on), or None where it cannot be loaded:
    the peak check then decodes with ffmpeg, as before."""
    lib = None
    for name in ("libmpg123.so.0", "find"):
        try:
            lib = ctypes.CDLL(name if name != "find" else ctypes.util.find_library("mpg123"))
            break
        except (OSError, TypeError):  # TypeError: find_library found none
            continue
    if lib is None:
        return None
    vp, c_int, c_size = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    try:
        lib.mpg123_init()  # needed before 1.27, a no-op since
        lib.mpg123_new.restype, lib.mpg123_new.argtypes = vp, [ctypes.c_char_p, ctypes.POINTER(c_int)]
        for f in ("mpg123_open_feed", "mpg123_format_none", "mpg123_delete"):
            getattr(lib, f).argtypes = [vp]
        lib.mpg123_param.argtypes = [vp, c_int, ctypes.c_long, ctypes.c_double]
        lib.mpg123_format.argtypes = [vp, ctypes.c_long, c_int, c_int]
        lib.mpg123_getformat.argtypes = [vp, ctypes.POINTER(ctypes.c_long), ctypes.POINTER(c_int),
                                         ctypes.POINTER(c_int)]
        lib.mpg123_decode.argtypes = [vp, ctypes.c_char_p, c_size, vp, c_size, ctypes.POINTER(c_size)]
        lib.mpg123_strerror.restype, lib.mpg123_strerror.argtypes = ctypes.c_char_p, [vp]
    except AttributeError:  # not the library it should be
        return None
    return lib


@cache
def peak_decoder() -> str:
    """Which decoder the peak check uses: libmpg123's file as the loader mapped it (its name carries the
    version: libmpg123.so.0.47.0 is 1.31), or ffmpeg."""
    if _mpg123() is None:
        return "ffmpeg"
    try:
        maps = Path("/proc/self/maps").read_text(errors="replace").split()
    except OSError:
        maps = []
    return next((os.path.basename(w) for w in maps if "libmpg123" in w), "libmpg123")


def _mp3_pcm(lib, path: Path):
    """The mono float32 samples of an MP3, decoded in this process by libmpg123 (gapless: the encoder's delay
    and padding left out, as ffmpeg leaves them out), in pieces; None (before any) for a file not mono."""
    data = Path(path).read_bytes()
    err = ctypes.c_int()
    h = lib.mpg123_new(None, ctypes.byref(err))
    if not h:
        raise AudioError(f"libmpg123 could not start while measuring the peak of {path.name} (error {err.value})",
                         cause="a broken libmpg123", fix="reinstall it with: apt-get install --reinstall libmpg123-0")
    try:
        lib.mpg123_param(h, _MPG123_ADD_FLAGS, _MPG123_QUIET | _MPG123_GAPLESS | _MPG123_FORCE_FLOAT, 0.0)
        lib.mpg123_format_none(h)
        for rate in (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000):
            lib.mpg123_format(h, rate, 1 | 2, _MPG123_ENC_FLOAT_32)  # mono or stereo: a stereo file goes to ffmpeg
        lib.mpg123_open_feed(h)
        out = np.empty(CHUNK, np.float32)
        done = ctypes.c_size_t()
        ret = lib.mpg123_decode(h, data, len(data), out.ctypes.data, out.nbytes, ctypes.byref(done))
        decoded = 0
        # Each call decodes a frame or more (24 bytes at least): a decoder that stops making progress ends in the
        # error below, not in a hang.
        for _ in range(len(data) // 24 + 64):
            if ret == _MPG123_NEW_FORMAT:
                hz, channels, encoding = ctypes.c_long(), ctypes.c_int(), ctypes.c_int()
                lib.mpg123_getformat(h, ctypes.byref(hz), ctypes.byref(channels), ctypes.byref(encoding))
                if channels.value != 1:
                    yield None
                    return
            if done.value:  # the last samples come with NEED_MORE
                decoded += done.value
                yield out[:done.value // 4].copy()
            if ret not in (_MPG123_OK, _MPG123_NEW_FORMAT):
                break
            ret = lib.mpg123_decode(h, None, 0, out.ctypes.data, out.nbytes, ctypes.byref(done))
        if ret != _MPG123_NEED_MORE or not decoded:  # the end of the fed bytes; none at all: an empty or cut file
            reason = lib.mpg123_strerror(h).decode("utf-8", "replace") if ret != _MPG123_NEED_MORE else "no audio"
            raise AudioError(f"libmpg123 failed while measuring the peak of {path.name}: {reason}",
                             cause="a broken or empty MP3 file", fix="build again with --clean")
    finally:
        lib.mpg123_delete(h)


def true_peak(path: Path) -> float:
    """True peak (dBTP) of an audio file: its peak at 4x the sample rate, as BS.1770 measures it. An MP3 is
    decoded in this process by libmpg123 where it is installed (an ffmpeg run costs twice as much, most of it
    start-up), anything else by ffmpeg; the in-process meter oversamples (ffmpeg's resampler to 4x and astats
    cost twice as much)."""
    lib = _mpg123() if Path(path).suffix.lower() == ".mp3" else None
    if lib is not None:
        pieces = _mp3_pcm(lib, path)
        first = next(pieces, None)
        if first is not None:
            return meter(chain([first], pieces), 0, loudness=False, true_peak=True).peak_db() + MPG123_SLACK_DB
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-f", "f32le", "-"]
    return meter(_pcm(cmd, f"measuring the peak of {path.name}"), 0, loudness=False, true_peak=True).peak_db()


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
            # The Info frame takes the header of the first part with audio (an empty first chapter must not give
            # 22.05 kHz audio a 44.1 kHz Info frame); parts before it wrote nothing, so its place is still first.
            if header is None and end > start:
                header = int.from_bytes(data[start:start + 4], "big")
                fh.write(bytes(len(_info_frame(header, 0, 0))))  # the Info frame's place, filled in below
            fh.write(data[start:end])
            frames_total += frames
            audio_bytes += end - start
            durations.append(frames * SAMPLES_PER_FRAME / rate if rate else 0.0)
        if parts:
            header = _DEFAULT_HEADER if header is None else header  # no audio at all: the Info frame alone
            fh.seek(0)
            fh.write(_info_frame(header, frames_total, audio_bytes))
    return durations
