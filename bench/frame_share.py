"""Measure a built guide: the spoken frame's share of the audio, and words per minute.

    python bench/frame_share.py GUIDE OUTPUT-FOLDER [--json FILE]

The frame is what tells the listener where they are rather than the guide's content: the
announcements, the end cues ("Fin du sujet."), the earcons, and the silences that belong to
them. Durations come from the real audio: each cue's start and end as measured while the chapter was
laid out (manifest.json), each chapter's MP3 duration, and ffmpeg's silencedetect over the whole-guide
MP3 for the time actually spoken.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from audioguide.audio import earcon  # noqa: E402
from audioguide.guide import load_guide  # noqa: E402
from audioguide.narration.script import ScriptWriter  # noqa: E402
from audioguide.tts.base import RATE  # noqa: E402

FRAME_KINDS = {"announce", "cue"}
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# Silences at least this long are our pauses between sentences, items or pages; espeak-ng's own pauses
# inside a sentence (commas) are shorter at every pace we offer.
PAUSE_S = 0.2


def words(text: str) -> int:
    return len(WORD.findall(text))


def silences(mp3: Path, min_s: float = PAUSE_S) -> float:
    """Total duration of the silences ffmpeg finds in a file (-45 dB, at least min_s long)."""
    proc = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", str(mp3), "-af",
                           f"silencedetect=noise=-45dB:d={min_s}", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    return sum(float(x) for x in re.findall(r"silence_duration: ([\d.]+)", proc.stderr))


def measure(guide_path: str, out: Path) -> dict:
    guide = load_guide(guide_path)
    writer = ScriptWriter(guide)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    by_id = {c["id"]: c for c in manifest["chapters"]}
    frame_speech = frame_pauses = 0.0
    frame_words = body_words = 0
    pages = 0
    for ch in guide.chapters:
        timed = by_id[ch.id]["pages"]
        scripts = writer.chapter(ch)
        for script, page in zip(scripts, timed):
            pages += 1
            assert [s.text for s in script.segments] == [c["text"] for c in page["cues"]], \
                f"{ch.id}/{page['id']}: the narration differs from the build; rebuild first"
            for seg, cue in zip(script.segments, page["cues"]):
                if seg.kind in FRAME_KINDS:
                    frame_speech += cue["end"] - cue["start"]
                    frame_pauses += seg.pause_ms / 1000
                    frame_words += words(seg.text)
                else:
                    body_words += words(seg.text)
    chapters = len(guide.chapters)
    earcons = (chapters * (len(earcon("chapter")) + len(earcon("end"))) +
               (pages - chapters) * len(earcon("page"))) / 2 / RATE
    # The leads around earcons (build.py: CHAPTER_LEAD_MS, PAGE_LEAD_MS, END_LEAD_MS twice).
    from audioguide import build as b

    leads = (chapters * (b.CHAPTER_LEAD_MS + 2 * b.END_LEAD_MS) + (pages - chapters) * b.PAGE_LEAD_MS) / 1000
    total = sum(c["duration"] for c in manifest["chapters"])
    whole = out / manifest["whole"]["mp3"]
    quiet = silences(whole)
    all_words = frame_words + body_words
    return {
        "guide": manifest["guide"]["id"], "chapters": chapters, "pages": pages,
        "engine": manifest["engine"],
        "total_min": round(total / 60, 2),
        "frame_clips_min": round((frame_speech + earcons) / 60, 2),
        "frame_clips_share": round((frame_speech + earcons) / total, 4),
        "frame_with_pauses_min": round((frame_speech + earcons + frame_pauses + leads) / 60, 2),
        "frame_with_pauses_share": round((frame_speech + earcons + frame_pauses + leads) / total, 4),
        "frame_words": frame_words, "body_words": body_words,
        "wpm_overall": round(all_words / (total / 60), 1),
        "wpm_speaking": round(all_words / ((total - quiet) / 60), 1),
        "silence_min": round(quiet / 60, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("guide")
    ap.add_argument("out", type=Path)
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    r = measure(args.guide, args.out)
    for k, v in r.items():
        print(f"{k:24} {v}")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
