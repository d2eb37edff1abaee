"""Chapter audio: the clips laid out with earcons and pauses, timed (timing.py), and the whole-guide MP3."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from audioguide.audio import ENCODER_LOSS_DB, LIMIT, WavWriter, concat_mp3, earcon, encoders, peak_decoder, silence
from audioguide.files import atomic_path, digest, matches, sha256_file
from audioguide.timing import Caption, ChapterTiming, Cue, PageTiming

if TYPE_CHECKING:
    from audioguide.config import BuildSettings
    from audioguide.guide import Chapter, Guide
    from audioguide.narration.script import PageScript, Segment
    from audioguide.recordings import Recordings
    from audioguide.tts.cache import ClipCache

# Bump when assembly changes in a way the cache keys would not see (earcons, trimming, layout).
ASSEMBLY_VERSION = 10
CHAPTER_LEAD_MS, PAGE_LEAD_MS, END_LEAD_MS, TAIL_MS = 400, 300, 250, 800


def write_addressed(folder: Path, stem: str, write: Callable[[Path], None]) -> Path:
    """Write an MP3 as <stem>.<first 12 hex of its sha256>.mp3. The feed and the manifest name these files,
    so a name never holds other bytes than the ones they state, and a new build never overwrites a file that
    a reader of the previous feed is about to fetch."""
    final: dict[str, Path] = {}

    def name(tmp: Path) -> Path:
        final["path"] = folder / f"{stem}.{sha256_file(tmp)[:12]}.mp3"
        return final["path"]

    with atomic_path(folder / f"{stem}.mp3", name_from=name) as tmp:
        write(tmp)
    return final["path"]


def stable_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def chapter_key(guide: Guide, settings: BuildSettings, chapter: Chapter, pages: list[PageScript],
                keys: dict[str, str], cover_sha: str, recorded: list | None = None) -> str:
    """What a chapter's MP3 is made from: equal keys, equal bytes. recorded: its recorded pages' keys
    (recordings/); a chapter without any keeps the key it had before recordings existed."""
    g = guide
    return stable_hash({
        "v": ASSEMBLY_VERSION, "limit": LIMIT, "loss": ENCODER_LOSS_DB, "audio": [settings.loudness_lufs,
                                                                                 settings.bitrate_kbps,
                                                                                 settings.sample_rate],
        "encoders": encoders(),  # an ffmpeg or LAME upgrade changes the MP3's bytes
        "peak decoder": peak_decoder(),  # it decides whether a chapter is encoded again (encode_mp3)
        "segments": [[p.page.id, p.page.title] + [[keys[s.text], s.pause_ms, s.written, s.cont, s.block, s.cuts]
                                                  for s in p.segments]
                     for p in pages],
        **({"recorded": recorded} if recorded else {}),
        "tags": [g.title, g.publisher, g.date, g.rights, g.link, g.id, chapter.number, len(g.chapters),
                 chapter.title, chapter.part.title if chapter.part else None,
                 chapter.part.number if chapter.part else None, len(g.parts), cover_sha],
    })


CaptionTimer = Callable[["Segment", str, float, float, float], list[Caption]]


def assemble(pages: list[PageScript], keys: dict[str, str], cache: ClipCache, wav: Path,
             captions: CaptionTimer, recordings: Recordings | None = None) -> list[PageTiming]:
    """Lay out one chapter: chapter chime, pages with page ticks, pauses; return page/cue timings.
    captions(segment, key, origin, start, end): the captions of a clip that holds several.
    recordings: a recorded page's own words are laid from its recording (its frame stays synthetic)."""
    w = WavWriter(wav)
    timings: list[PageTiming] = []
    try:
        w.add(earcon("chapter"))
        w.add(silence(CHAPTER_LEAD_MS))
        for i, page in enumerate(pages):
            start = 0.0 if i == 0 else w.seconds
            if i:
                w.add(earcon("page"))
                w.add(silence(PAGE_LEAD_MS))
            cues: list[Cue] = []
            body = recordings.body(page) if recordings else []
            for k, seg in enumerate(page.segments):
                if k in body:
                    if recordings and k == body[0]:
                        cues += cast("list[Cue]", recordings.lay(w, page))
                    continue
                if seg.kind == "cue" and (k == 0 or page.segments[k - 1].kind != "cue"):  # one chime per end cue
                    w.add(silence(END_LEAD_MS))
                    w.add(earcon("end"))
                    w.add(silence(END_LEAD_MS))
                t0 = w.seconds
                lead = w.add_clip(cache.path(keys[seg.text]))
                # text: what is said; written: what readers see. A cue is a clip: its start and end are where
                # its speech starts and ends in the chapter audio. A clip holding several captions lists
                # them, timed by the engine's own timing of their first words.
                cue = Cue(start=round(t0, 3), end=round(w.seconds, 3), text=seg.text, written=seg.written,
                          kind=seg.kind, cont=seg.cont, block=seg.block)  # type: ignore[typeddict-item]
                if seg.cuts:
                    cue["captions"] = captions(seg, keys[seg.text], t0 - lead, t0, w.seconds)
                cues.append(cue)
                w.add(silence(seg.pause_ms))
            if i == len(pages) - 1:
                w.add(silence(TAIL_MS))
            timings.append(PageTiming(id=page.page.id, title=page.page.title, start=round(start, 3),
                                      end=round(w.seconds, 3), cues=cues))
    finally:
        w.close()
    return timings


def whole_is_fresh(old: dict | None, key: str, chapters: list[Chapter], out: Path) -> bool:
    return bool(old and old["key"] == key and "duration" in old and isinstance(old.get("mp3"), str)
                and len(old.get("chapters", ())) == len(chapters)
                and matches(out / old["mp3"], old.get("sha256", "")))


def whole_audio(guide: Guide, out: Path, chapters: list[Chapter], entries: Mapping[str, ChapterTiming], cover: bytes,
                old: dict | None) -> tuple[dict, bool]:
    """The whole guide as one MP3 (the chapters' MP3s joined); (its state entry, whether it was encoded)."""
    from audioguide.publishers.mp3 import tag_whole

    key = stable_hash([entries[c.id]["key"] for c in chapters])
    if old is not None and whole_is_fresh(old, key, chapters, out):
        # The key leaves out the chapters' ids, as the file's bytes do: a renamed id keeps the file, but the
        # manifest must name the chapters as they are now called.
        return {**old, "chapters": [{**c, "id": ch.id} for ch, c in zip(chapters, old["chapters"])]}, False
    parts = [out / entries[c.id]["mp3"] for c in chapters]
    spans, t = [], 0.0

    def write(tmp: Path) -> None:
        nonlocal t
        for c, d in zip(chapters, concat_mp3(parts, tmp)):
            spans.append((c, t, t + d, entries[c.id]["pages"]))
            t += d
        tag_whole(tmp, guide, spans, cover)

    path = write_addressed(out, f"{guide.id}-complet", write)
    return {"key": key, "mp3": path.name, "sha256": digest(path), "duration": round(t, 3),
            "chapters": [{"id": c.id, "start": round(s, 3), "end": round(e, 3)} for c, s, e, _ in spans]}, True
