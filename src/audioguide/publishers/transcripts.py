"""Transcripts beside each chapter (plain text, WebVTT, SRT) and JSON chapters (Podcasting 2.0 format)."""

from __future__ import annotations

import json

from audioguide.files import update_bytes
from audioguide.publishers import Publisher


def _ts(seconds: float, sep: str = ".") -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def vtt(cues) -> str:
    out = ["WEBVTT", ""]
    for i, c in enumerate(cues, 1):
        out += [str(i), f"{_ts(c['start'])} --> {_ts(c['end'])}", c["text"], ""]
    return "\n".join(out)


def srt(cues) -> str:
    out = []
    for i, c in enumerate(cues, 1):
        out += [str(i), f"{_ts(c['start'], ',')} --> {_ts(c['end'], ',')}", c["text"], ""]
    return "\n".join(out)


def text_transcript(chapter: dict) -> str:
    lines = [chapter["title"], ""]
    for page in chapter["pages"]:
        lines += [p["text"] for p in page["cues"]] + [""]
    return "\n".join(lines).rstrip() + "\n"


def chapters_json(chapter: dict, guide_title: str) -> str:
    data = {"version": "1.2.0", "author": guide_title, "title": chapter["title"],
            "chapters": [{"startTime": round(p["start"], 3), "endTime": round(p["end"], 3), "title": p["title"]}
                         for p in chapter["pages"]]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


class TranscriptsPublisher(Publisher):
    name = "transcripts"

    def publish(self, result) -> list:
        written = []
        for ch in result.manifest["chapters"]:
            cues = [c for p in ch["pages"] for c in p["cues"]]
            files = {
                ch["transcript"]["txt"]: text_transcript(ch),
                ch["transcript"]["vtt"]: vtt(cues),
                ch["transcript"]["srt"]: srt(cues),
                ch["chapters_json"]: chapters_json(ch, result.guide.title),
            }
            for rel, text in files.items():
                path = result.out_dir / rel
                update_bytes(path, text.encode("utf-8"))
                written.append(path)
        return written
