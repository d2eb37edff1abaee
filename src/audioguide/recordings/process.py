"""A volunteer's recording made ready to sit between synthetic pages: decoded by ffmpeg (any common format),
a gentle high-pass (80 Hz: breath, desk and traffic rumble), leading and trailing silence trimmed, pauses longer
than MAX_PAUSE_S shortened, then brought to the loudness of the synthetic narration it replaces. The chapter's
own normalisation and limiter then take it, with the rest, to −16 LUFS and −1 dBTP, and the phone's levels.
No de-clicker: the click detectors tried would also eat plosives of a close microphone."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audioguide.audio import ffmpeg_exe, measure_loudness
from audioguide.exceptions import AudioError
from audioguide.i18n import _
from audioguide.recordings.align import speech_edges
from audioguide.tts.base import RATE

MAX_PAUSE_S = 1.5
LEAD_S, TAIL_S = 0.05, 0.15  # kept around the speech: a breath's onset, a word's decay
CLIP_LEVEL = 0.985
MIN_SNR_DB = 25.0
PAUSE_GAIN = 0.25


@dataclass
class Processed:
    audio: np.ndarray
    """Mono float at RATE, ready to lay (peak ≤ 1)."""
    warnings: list[str] = field(default_factory=list)


def decode(path: Path, where: str) -> np.ndarray:
    """The recording as mono float samples at RATE, high-passed; a French error naming the page if ffmpeg
    cannot read it."""
    proc = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "1",
                           "-ar", str(RATE), "-af", "highpass=f=80:poles=2", "-f", "f32le", "-"],
                          capture_output=True, check=False)
    y = np.frombuffer(proc.stdout, dtype="<f4")
    if proc.returncode != 0 or len(y) < RATE // 2:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(_("Page {where}: the recording {path} cannot be read ({detail}).").format(
                             where=where, path=path,
                             detail=detail[-1] if detail else _("less than half a second of sound")),
                         cause=_("the file is damaged, empty, or not a sound file"),
                         fix=_("record the page again, or export it as WAV or MP3 from your recording software; to "
                               "keep the synthetic voice on this page, remove the file"))
    return y.astype(np.float64)


def clipped_share(y: np.ndarray) -> float:
    """Share of samples in runs of three or more at full scale: a converter that ran out of range."""
    hot = np.abs(y) >= CLIP_LEVEL
    runs = hot[:-2] & hot[1:-1] & hot[2:]
    return float(runs.sum()) / max(1, len(y))


def snr_db(y: np.ndarray) -> float:
    """Speech level over the noise floor, from 10 ms frame energies (95th over 10th percentile)."""
    hop = RATE // 100
    n = len(y) // hop
    db = 10 * np.log10(np.mean(y[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    return float(np.percentile(db, 95) - np.percentile(db, 10))


def tidy(y: np.ndarray) -> np.ndarray:
    """Trim the silence before and after the speech, and shorten long pauses to MAX_PAUSE_S."""
    on, off = speech_edges(y.astype(np.float32), RATE, min_pause_s=0.3)
    if not len(on):
        return y
    keep = []
    start = max(0.0, on[0] - LEAD_S)
    for k in range(len(on) - 1):
        if on[k + 1] - off[k] > MAX_PAUSE_S:  # cut the middle of the pause, keep its edges
            keep.append((start, off[k] + MAX_PAUSE_S / 2))
            start = on[k + 1] - MAX_PAUSE_S / 2
    keep.append((start, min(len(y) / RATE, off[-1] + TAIL_S)))
    return np.concatenate([y[int(a * RATE):int(b * RATE)] for a, b in keep])


def quieten_pauses(y: np.ndarray) -> np.ndarray:
    """Room noise 12 dB down between sentences, with 30 ms ramps: the synthetic pages around a recorded one
    pause in digital silence, and a room's hiss, raised with the voice to the guide's loudness, stands out
    there (−40 dBFS measured on a take 30 dB over its noise). Speech is left as it is."""
    on, off = speech_edges(y.astype(np.float32), RATE, min_pause_s=0.3)
    gain = np.full(len(y), PAUSE_GAIN)
    ramp = int(0.03 * RATE)
    for a, b in zip(on, off):
        gain[max(0, int(a * RATE) - 2 * ramp):int(b * RATE) + 2 * ramp] = 1.0
    kernel = np.ones(ramp) / ramp
    return y * np.convolve(gain, kernel, mode="same")


def quality_warnings(y: np.ndarray, where: str, name: str) -> list[str]:
    """A clipped or noisy take, in French, naming the page (the build's log and the studio say the same)."""
    out = []
    share = clipped_share(y)
    if share > 1e-4:
        out.append(_("Page {where}: the recording {name} clips ({share} of the samples clipped): the voice will be "
                     "distorted. Record it again with the microphone less loud or further from the mouth.").format(
                         where=where, name=name, share=f"{share:.2%}"))
    snr = snr_db(y)
    if snr < MIN_SNR_DB:
        out.append(_("Page {where}: the recording {name} has a lot of background noise (the voice is only {snr} dB "
                     "above the noise). Record in a quiet room, away from a computer or a window.").format(
                         where=where, name=name, snr=f"{snr:.0f}"))
    return out


def process(path: Path, where: str, target_lufs: float, work: Path) -> Processed:
    y = decode(path, where)
    out = Processed(y, quality_warnings(y, where, path.name))
    y = quieten_pauses(tidy(y))
    # Same loudness as the synthetic page: the chapter is normalised as a whole, so a page louder or quieter
    # than its neighbours would stay so. Measured by ffmpeg's own meter, as the chapter is.
    tmp = work / "recording.f32"
    tmp.write_bytes(y.astype("<f4").tobytes())
    proc = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-f", "f32le", "-ar", str(RATE), "-ac", "1",
                           "-i", str(tmp), "-af", "ebur128", "-f", "null", "-"],
                          capture_output=True, text=True, check=False)
    summary = proc.stderr[proc.stderr.rfind("Summary:"):]
    m = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    gain = 10 ** ((target_lufs - float(m.group(1))) / 20) if m else 1.0
    y = y * min(gain, 30.0)
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak > 0.97:  # the chapter's limiter does the rest; this only keeps the 16-bit WAV from wrapping
        y = y * (0.97 / peak)
    out.audio = y
    return out


def reference_loudness(wav: Path) -> float:
    return measure_loudness(wav)[0]
