"""manifest.json, what readers of a build find in it, and the build state the next build starts from."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audioguide import __version__
from audioguide.files import read_state, update_bytes

if TYPE_CHECKING:
    from audioguide.config import BuildSettings
    from audioguide.guide import Guide
    from audioguide.publishers import Publisher
    from audioguide.timing import ChapterTiming

FORMAT = 1
STATE_FILE = ".build-state.json"
MANIFEST = "manifest.json"


def manifest(guide: Guide, settings: BuildSettings, engine, out: Path, base_url: str,
             entries: Mapping[str, ChapterTiming],
             whole: dict, publishers: Iterable[Publisher]) -> dict[str, Any]:
    """The build's manifest before the publishers run: the guide, the audio, the chapters and their timings,
    and where each publisher says its files are."""
    g = guide
    publishers = list(publishers)
    chapters = []
    for ch in g.chapters:
        e = entries[ch.id]
        chapter = {
            "id": ch.id, "number": ch.number, "title": ch.title, "description": ch.description,
            "part": {"id": ch.part.id, "number": ch.part.number, "title": ch.part.title} if ch.part else None,
            "mp3": e["mp3"], "bytes": (out / e["mp3"]).stat().st_size,
            "duration": e["duration"], "sha256": e["sha256"],
            "pages": e["pages"],
        }
        for p in publishers:
            chapter.update(p.chapter_entries(ch))
        chapters.append(chapter)
    assert g.date is not None  # load_guide sets it: the guide's date, else its file's
    data: dict[str, Any] = {
        "format": FORMAT, "generator": f"audioguide {__version__}",
        "guide": {"id": g.id, "title": g.title, "subtitle": g.subtitle, "publisher": g.publisher,
                  "author": g.author, "language": g.language, "description": g.description, "source": g.source,
                  "rights": g.rights, "version": g.version, "date": g.date.isoformat(), "link": g.link,
                  "email": g.email, "base_url": base_url, "intro": g.intro.id if g.intro else None,
                  "levels": {k: {"noun": v.noun, "feminine": v.feminine} for k, v in vars(g.levels).items()},
                  "parts": [{"id": p.id, "number": p.number, "title": p.title,
                             "chapters": [c.id for c in p.chapters]} for p in g.parts]},
        "engine": {"name": engine.name, **{k: v for k, v in engine.identity().items() if k != "engine"}},
        "audio": {"format": "mp3", "channels": 1, "sample_rate": settings.sample_rate,
                  "bitrate_kbps": settings.bitrate_kbps, "loudness_lufs": settings.loudness_lufs,
                  "true_peak_dbtp": settings.true_peak_db},
        "cover": "cover.jpg",
        "chapters": chapters,
        "whole": {"mp3": whole["mp3"], "bytes": (out / whole["mp3"]).stat().st_size,
                  "duration": whole["duration"], "sha256": whole["sha256"], "chapters": whole["chapters"]},
    }
    for p in publishers:
        data.update(p.entries(guide))
    return data


def add_entries(data: dict[str, Any], entries: dict[str, Any]) -> None:
    """A publisher's entries into the manifest: a dict merged into the same key's dict ("downloads")."""
    for k, v in entries.items():
        if isinstance(v, dict) and isinstance(data.get(k), dict):
            data[k] = {**data[k], **v}
        else:
            data[k] = v


def write_json(path: Path, data: dict) -> None:
    update_bytes(path, (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def write_state(out: Path, entries: Mapping[str, ChapterTiming], whole: dict, inputs: str, warnings: list[str]) -> None:
    update_bytes(out / STATE_FILE, json.dumps({"chapters": entries, "whole": whole, "inputs": inputs,
                                               "warnings": warnings}, sort_keys=True,
                                              ensure_ascii=False, indent=1).encode("utf-8"))


def read_build_state(out: Path) -> dict:
    return read_state(out / STATE_FILE, _state_shaped)


def _state_shaped(state) -> bool:
    def entry(e) -> bool:
        return isinstance(e, dict) and isinstance(e.get("key"), str) and isinstance(e.get("pages", []), list) \
            and isinstance(e.get("chapters", []), list) and all(isinstance(c, dict) for c in e.get("chapters", []))

    chapters, warnings = state.get("chapters", {}), state.get("warnings", [])  # both absent from older states
    return (isinstance(chapters, dict) and all(entry(e) for e in chapters.values())
            and ("whole" not in state or entry(state["whole"])) and isinstance(state.get("inputs", ""), str)
            and isinstance(warnings, list) and all(isinstance(w, str) for w in warnings))
