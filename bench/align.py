"""Sentence-boundary error of the recording aligner (recordings/align.py), on readings whose truth is known.

    python bench/align.py [GUIDE] [--pages N] [--json FILE]

Each page's body is narrated as a build narrates it. The reference is what the build would say (espeak-ng's
French voice at the guide's rate, the build's pauses). The "recording" is the same text read by another
espeak-ng voice at another pace and pitch, with other pauses, a long hesitation inserted, room noise added and
a second of silence before and after; its own sentence times are the truth. Each sentence's start and end in
the reference are carried across by the aligner and compared with the truth. Also printed: the confidence on
a right pairing, and on a wrong one (page n's reference against page n+1's reading), which sets the threshold
under which a build falls back to page-level sync.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from audioguide.guide import load_guide  # noqa: E402
from audioguide.narration.script import ScriptWriter  # noqa: E402
from audioguide.recordings.align import warp  # noqa: E402

SR = 22050
REFERENCE = ["-v", "fr", "-s", "130"]
# (espeak-ng arguments, pause scale, noise SNR dB)
READERS = {
    "m3 fast low": (["-v", "fr+m3", "-s", "150", "-p", "35"], 0.7, 30),
    "f2 slow high": (["-v", "fr+f2", "-s", "110", "-p", "70"], 1.6, 25),
    "klatt3 pace": (["-v", "fr+klatt3", "-s", "140", "-p", "45"], 1.0, 20),
}


def say(args: list[str], text: str) -> np.ndarray:
    wav = subprocess.run(["espeak-ng", *args, "--stdout", text], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as r:
        y = np.frombuffer(r.readframes(r.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    idx = np.flatnonzero(np.abs(y) > 200 / 32768)
    return y[idx[0]:idx[-1] + 1] if len(idx) else y


def render(texts: list[str], pauses: list[int], args: list[str], scale: float = 1.0, lead: float = 0.15,
           hesitate: int | None = None) -> tuple[np.ndarray, list[tuple[float, float]]]:
    out, times, t = [np.zeros(int(SR * lead), np.float32)], [], lead
    for k, (text, pause) in enumerate(zip(texts, pauses)):
        y = say(args, text)
        times.append((t, t + len(y) / SR))
        out.append(y)
        gap = pause * scale / 1000 + (1.2 if k == hesitate else 0)
        out.append(np.zeros(int(SR * gap), np.float32))
        t += (len(y) + int(SR * gap)) / SR
    return np.concatenate(out), times


def pages(guide_path: str, n: int):
    guide = load_guide(guide_path)
    writer = ScriptWriter(guide)
    found = []
    for ch in guide.chapters:
        for ps in writer.chapter(ch):
            body = [s for s in ps.segments if s.block is not None]
            if len(body) >= 3:
                found.append((f"{ch.id}/{ps.page.id}", [s.text for s in body], [s.pause_ms for s in body]))
    step = max(1, len(found) // n)
    return found[::step][:n]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("guide", nargs="?", default="guides/e-sante/guide.yaml")
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--json")
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    chosen = pages(a.guide, a.pages)
    errors: dict[str, list[float]] = {name: [] for name in READERS}
    right, wrong = [], []
    renders = []
    for pid, texts, pauses in chosen:
        ref, ref_times = render(texts, pauses, REFERENCE)
        renders.append(ref)
        for name, (args, scale, snr) in READERS.items():
            rec, truth = render(texts, pauses, args, scale, lead=1.0, hesitate=len(texts) // 2)
            rec = np.concatenate([rec, np.zeros(SR, np.float32)])
            speech = np.sqrt(np.mean(rec[np.abs(rec) > 0.01] ** 2))
            rec = rec + rng.normal(0, speech * 10 ** (-snr / 20), len(rec)).astype(np.float32)
            w = warp(ref, rec, SR)
            right.append(w.confidence)
            for (r0, r1), (t0, t1) in zip(ref_times, truth):
                errors[name] += [abs(w.onset(r0) - t0), abs(w.offset(r1) - t1)]
            print(f"{pid:50s} {name:14s} conf {w.confidence:.2f}  median {np.median(errors[name]):.3f} s",
                  flush=True)
    for k, (pid, texts, pauses) in enumerate(chosen):
        other, _ = render(chosen[(k + 1) % len(chosen)][1], chosen[(k + 1) % len(chosen)][2],
                          READERS["m3 fast low"][0])
        wrong.append(warp(renders[k], other, SR).confidence)
    every = [e for v in errors.values() for e in v]
    report = {
        "pages": len(chosen), "boundaries": len(every),
        "median_s": round(float(np.median(every)), 3), "p95_s": round(float(np.percentile(every, 95)), 3),
        "max_s": round(float(np.max(every)), 3),
        "by_reader": {n: {"median_s": round(float(np.median(v)), 3), "p95_s": round(float(np.percentile(v, 95)), 3)}
                      for n, v in errors.items()},
        "confidence_right": [round(min(right), 2), round(float(np.median(right)), 2)],
        "confidence_wrong": [round(float(np.median(wrong)), 2), round(max(wrong), 2)],
    }
    print(json.dumps(report, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
