"""Transcripts beside each chapter (plain text, WebVTT, SRT) and JSON chapters (Podcasting 2.0 format).

They show the written form of the guide, never the spoken one ("DMP", not "D.M.P."; "3422", not
"trente-quatre vingt-deux"). Captions follow caption practice: at most 2 lines of 42 characters, cues of
1 to 7 s. Their times are the clips' own: a caption is one or more whole clips, so its cue starts where its
speech starts in the audio, and ends where it ends (or up to 1 s after its start, never past the next); or it is
one of the captions of a clip (a clause too long for one), whose times are the engine's timing of its words.
"""

from __future__ import annotations

import json
import logging

from audioguide.i18n import _
from audioguide.narration.captions import wrap_caption
from audioguide.narration.written import join_sentences
from audioguide.publishers import BuildContext, Publisher

log = logging.getLogger(__name__)
MIN_CUE_S, MAX_CUE_S = 1.0, 7.0


def _ts(seconds: float, sep: str = ".") -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _written(cue: dict) -> str:
    return cue.get("written") or cue["text"]


def _page_captions(cues: list[dict]) -> list[dict]:
    """One page's clips -> captions (a clip's own, when it lists them): a caption shorter than 1 s shares the
    next one's (or the one's before) when both still fit on two lines and in 7 s."""
    out: list[dict] = []

    def joinable(a: dict, b: dict) -> bool:
        return len(wrap_caption(f"{a['text']} {b['text']}")) <= 2 and b["end"] - a["start"] <= MAX_CUE_S

    for c in (cap for cue in cues for cap in cue.get("captions") or [cue]):
        cur = {"start": c["start"], "end": c["end"], "text": _written(c)}
        if not cur["text"]:
            continue
        if out and out[-1]["end"] - out[-1]["start"] < MIN_CUE_S and joinable(out[-1], cur):
            out[-1].update(end=cur["end"], text=f"{out[-1]['text']} {cur['text']}")
        else:
            out.append(cur)
    if len(out) > 1 and out[-1]["end"] - out[-1]["start"] < MIN_CUE_S and joinable(out[-2], out[-1]):
        last = out.pop()
        out[-1].update(end=last["end"], text=f"{out[-1]['text']} {last['text']}")
    return out


def caption_cues(pages: list[dict]) -> list[dict]:
    """A chapter's captions, in order: start, end, text (its lines joined by a line break)."""
    out = [c for p in pages for c in _page_captions(p["cues"])]
    for i, c in enumerate(out):
        if c["end"] - c["start"] < MIN_CUE_S:  # stay on screen a little into the pause, never past the next
            nxt = out[i + 1]["start"] if i + 1 < len(out) else float("inf")
            c["end"] = round(max(c["end"], min(c["start"] + MIN_CUE_S, nxt)), 3)
        if c["end"] - c["start"] > MAX_CUE_S:
            log.warning(_("Caption %r lasts %.1f s (over 7 s): the voice is slow for this text."), c["text"],
                        c["end"] - c["start"])
        c["text"] = "\n".join(wrap_caption(c["text"]))
    return out


def vtt(cues) -> str:
    out = ["WEBVTT", ""]
    for i, c in enumerate(cues, 1):
        # WebVTT cue text is markup: a guide's "&" or "<" must not open an entity or a tag.
        text = c["text"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out += [str(i), f"{_ts(c['start'])} --> {_ts(c['end'])}", text, ""]
    return "\n".join(out)


def srt(cues) -> str:
    out = []
    for i, c in enumerate(cues, 1):
        out += [str(i), f"{_ts(c['start'], ',')} --> {_ts(c['end'], ',')}", c["text"], ""]
    return "\n".join(out)


def text_transcript(chapter: dict) -> str:
    """The chapter as written, one sentence a line, a blank line between pages."""
    lines = [chapter["title"], ""]
    for page in chapter["pages"]:
        lines += [join_sentences([{**c, "written": _written(c)} for c in page["cues"]]), ""]
    return "\n".join(lines).rstrip() + "\n"


def chapters_json(chapter: dict, author: str) -> str:
    """author: who the episode is by, as the feed's itunes:author says (the publisher); left out when unknown."""
    data = {"version": "1.2.0", **({"author": author} if author else {}), "title": chapter["title"],
            "chapters": [{"startTime": round(p["start"], 3), "endTime": round(p["end"], 3), "title": p["title"]}
                         for p in chapter["pages"]]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


class TranscriptsPublisher(Publisher):
    name = "transcripts"
    folders = ("transcripts", "chapters")

    def chapter_entries(self, chapter) -> dict:
        slug = chapter.slug
        return {"transcript": {"txt": f"transcripts/{slug}.txt", "vtt": f"transcripts/{slug}.vtt",
                               "srt": f"transcripts/{slug}.srt"},
                "chapters_json": f"chapters/{slug}.json"}

    def publish(self, result: BuildContext) -> list:
        written = []
        for ch in result.manifest["chapters"]:
            cues = caption_cues(ch["pages"])
            files = {
                ch["transcript"]["txt"]: text_transcript(ch),
                ch["transcript"]["vtt"]: vtt(cues),
                ch["transcript"]["srt"]: srt(cues),
                ch["chapters_json"]: chapters_json(ch, result.guide.publisher or result.guide.author),
            }
            for rel, text in files.items():
                result.write(rel, text.encode("utf-8"))
                written.append(result.out_dir / rel)
        return written
