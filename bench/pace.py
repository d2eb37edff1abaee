"""Words per minute at each pace, measured on a guide's real audio.

    python bench/pace.py [GUIDE] [--cache DIR] [--json FILE]

For each pace, every chapter is narrated, synthesised by espeak-ng (through the clip cache) and laid out
exactly as a build lays it out (build/assembly.py: earcons, pauses), without the MP3 encode. Words are
counted in what is said; "overall" divides them by the whole duration, "speaking" by the time left
once ffmpeg's silencedetect has removed every pause of 0.2 s or more.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from frame_share import silences, words  # noqa: E402

from audioguide.build import Builder  # noqa: E402
from audioguide.build.assembly import assemble  # noqa: E402
from audioguide.config import PACES, BuildSettings, default_cache_dir  # noqa: E402
from audioguide.guide import load_guide  # noqa: E402


def measure(guide_path: str, pace: str, cache: Path) -> dict:
    guide = load_guide(guide_path)
    with tempfile.TemporaryDirectory() as tmp:
        b = Builder(guide, BuildSettings(pace=pace, cache_dir=cache, out_dir=Path(tmp) / "out", progress=False))
        scripts = b.narrate()
        keys = b.synthesize(scripts)
        total = quiet = 0.0
        n = 0
        for ch in guide.chapters:
            wav = Path(tmp) / f"{ch.id}.wav"
            assemble(scripts[ch.id], keys, b.cache, wav, b.captions)
            with wave.open(str(wav)) as w:
                total += w.getnframes() / w.getframerate()
            quiet += silences(wav)
            n += sum(words(s.text) for p in scripts[ch.id] for s in p.segments)
    return {"pace": pace, "rate": b.settings.rate, "words": n, "minutes": round(total / 60, 2),
            "wpm_overall": round(n / (total / 60), 1), "wpm_speaking": round(n / ((total - quiet) / 60), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("guide", nargs="?", default=str(Path(__file__).resolve().parents[1] / "guides" / "e-sante"))
    ap.add_argument("--cache", type=Path, default=default_cache_dir())
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = [measure(args.guide, pace, args.cache) for pace in PACES]
    print(f"{'pace':8} {'rate':>5} {'words':>6} {'minutes':>8} {'wpm overall':>12} {'wpm speaking':>13}")
    for r in rows:
        print(f"{r['pace']:8} {r['rate']:5} {r['words']:6} {r['minutes']:8} {r['wpm_overall']:12} "
              f"{r['wpm_speaking']:13}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
