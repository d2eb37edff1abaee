"""Sentence times in a human recording, found without a speech recogniser (aeneas's method): the same text,
rendered by the synthetic voice, has known sentence times; dynamic time warping over MFCCs pairs each instant of
that rendering with one of the recording, and the known times are carried across. Each carried sentence
boundary is then moved to the nearest pause edge of the recording, where a reader's sentences start and end.

Needs numpy and librosa (the optional extra `voice`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOP_S = 0.02  # 20 ms frames; longer pages take longer hops so the cost matrix stays bounded (MAX_FRAMES)
MAX_FRAMES = 4000
N_MFCC = 13
SNAP_S = 0.35  # how far a carried boundary may move to a pause edge of the recording
# bench/align.py, 10 e-santé pages, 4 readers: the right text 0.52 and up, another page's text 0.48 at most.
# A thin margin: a wrong file let through is also flagged by `check` (its length), a right one refused still
# gets page-level sync.
MIN_CONFIDENCE = 0.5


@dataclass
class Warp:
    """The DTW path between a rendering (ref) and a recording (rec), as a monotone time map."""

    ref_t: np.ndarray
    rec_t: np.ndarray
    rec_edges: tuple[np.ndarray, np.ndarray]
    """Where speech starts and where it stops in the recording (seconds), for snapping."""

    def map(self, t: float) -> float:
        return float(np.interp(t, self.ref_t, self.rec_t))

    def onset(self, t: float) -> float:
        """A sentence start carried across, at the nearest speech onset of the recording if one is near."""
        return _snap(self.map(t), self.rec_edges[0])

    def offset(self, t: float) -> float:
        return _snap(self.map(t), self.rec_edges[1])


def _snap(t: float, edges: np.ndarray) -> float:
    if len(edges):
        near = edges[np.argmin(np.abs(edges - t))]
        if abs(near - t) <= SNAP_S:
            return float(near)
    return t


def _features(y: np.ndarray, sr: int, hop: int) -> np.ndarray:
    import librosa

    # A faint dither: the rendering's digital silence and a room's hush must both read as "quiet", not as
    # log(0) against a noise spectrum.
    y = y + np.random.default_rng(0).normal(0, 1e-4, len(y)).astype(y.dtype)
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=N_MFCC, n_fft=max(2 * hop, 512), hop_length=hop,
                             n_mels=40, fmin=80, fmax=min(7600, sr / 2))
    m = m[1:]  # c0 is loudness: it differs between voices and rooms, and says nothing of what is said
    m = (m - m.mean(axis=1, keepdims=True)) / (m.std(axis=1, keepdims=True) + 1e-9)  # per-voice normalisation
    return m


def speech_edges(y: np.ndarray, sr: int, min_pause_s: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """Onsets and offsets of speech (seconds) around pauses of at least min_pause_s, from frame energy relative
    to the recording's own noise floor and speech level."""
    hop = int(sr * 0.01)
    n = len(y) // hop
    if n < 3:
        return np.array([]), np.array([])
    frames = y[: n * hop].reshape(n, hop)
    db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    floor, loud = np.percentile(db, 10), np.percentile(db, 95)
    thr = floor + max(6.0, 0.35 * (loud - floor))
    voiced = db > thr
    # close gaps shorter than a pause, drop blips shorter than 40 ms
    minp = int(min_pause_s / 0.01)
    on, off = [], []
    i = 0
    runs = []
    while i < n:
        j = i
        while j < n and voiced[j] == voiced[i]:
            j += 1
        runs.append([bool(voiced[i]), i, j])
        i = j
    merged: list[list[int]] = []  # [voiced, start, end] runs
    for r in runs:
        if merged and (not r[0] and r[2] - r[1] < minp and r[2] < n):
            merged[-1][2] = r[2]  # a short gap inside speech: still speech
            continue
        if merged and merged[-1][0] == r[0]:
            merged[-1][2] = r[2]
        else:
            merged.append(list(r))
    for v, a, b in merged:
        if v and b - a >= 4:
            on.append(a * 0.01)
            off.append(b * 0.01)
    return np.array(on), np.array(off)


def warp(ref: np.ndarray, rec: np.ndarray, sr: int) -> Warp:
    """Align two mono float signals at sample rate sr."""
    import librosa

    longest = max(len(ref), len(rec)) / sr
    hop_s = max(HOP_S, longest / MAX_FRAMES)
    hop = round(sr * hop_s)
    a, b = _features(ref, sr, hop), _features(rec, sr, hop)
    _, path = librosa.sequence.dtw(X=a, Y=b, metric="euclidean", backtrack=True)
    path = path[::-1]
    # One recording time per rendering frame: the middle of the frames it was paired with.
    ref_frames = np.arange(a.shape[1])
    counts = np.bincount(path[:, 0], minlength=a.shape[1])  # a DTW path visits every frame of both
    rec_mid = np.maximum.accumulate(np.bincount(path[:, 0], weights=path[:, 1], minlength=a.shape[1])
                                    / np.maximum(counts, 1))
    return Warp(ref_frames * hop_s, rec_mid * hop_s, speech_edges(rec, sr))


def confidence(w: Warp, spans: list[tuple[float, float]]) -> float:
    """How surely the sentences (start, end in the rendering) were found in the reading: the share of their
    edges carried onto a pause edge of the reading, less the spread (std of the log) of how much each sentence
    was stretched. A reader keeps a pace and pauses between sentences; a warping forced onto other words
    lands sentence edges mid-word and stretches some sentences and crushes others. MFCC path costs did not
    tell these apart: a voice unlike the rendering's (Piper's) scored as low as the wrong text did."""
    if not spans:
        return 0.0
    hits = sum(_near(w.map(a), w.rec_edges[0]) + _near(w.map(b), w.rec_edges[1]) for a, b in spans)
    logs = [np.log(max(w.offset(b) - w.onset(a), 0.02) / (b - a)) for a, b in spans if b - a > 0.4]
    spread = float(np.std(logs)) if len(logs) > 1 else 0.0
    return round(hits / (2 * len(spans)) - spread, 3)


def _near(t: float, edges: np.ndarray) -> bool:
    return bool(len(edges)) and float(np.min(np.abs(edges - t))) <= SNAP_S
