"""Publishers turn a finished build into files people use. Found through `audioguide.publishers` entry points."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from audioguide.files import read_state, update_bytes

if TYPE_CHECKING:
    from audioguide.audio import Tap
    from audioguide.config import BuildSettings
    from audioguide.guide import Chapter, Guide
    from audioguide.output import OutputFolder
    from audioguide.speaker import Speaker
    from audioguide.timing import ChapterTiming, PageTiming

ENTRY_POINTS = "audioguide.publishers"


@dataclass(frozen=True)
class BuildContext:
    """What a publisher may use of a build, and nothing else: it reads the guide, the settings and the manifest
    (with the entries of the publishers it runs after), and writes only in `out_dir`."""

    guide: Guide
    settings: BuildSettings
    out_dir: Path
    manifest: Mapping[str, Any]
    """The manifest so far (a copy): the build's and the earlier publishers' entries. Empty while chapters are
    being encoded."""
    speaker: Speaker
    """The guide's voice, for prompts: speaker.prompt_clips(text), then `with speaker.speak(clips) as wav`."""
    run: Callable[[list[Callable[[], object]], str], None]
    """run(jobs, label): the jobs on the build's workers."""
    state_file: Path | None = None
    folder: OutputFolder | None = None
    """The output folder to write through (folder.update(rel, data), folder.atomic(rel)); None outside a build."""

    def write(self, rel: str, data: bytes) -> None:
        """Write a file of the output folder, unless it already holds `data`."""
        if self.folder is not None:
            self.folder.update(rel, data)
        else:
            update_bytes(self.out_dir / rel, data)

    @property
    def timing(self) -> dict[str, list[PageTiming]]:
        """Chapter id -> its pages' timings (timing.py)."""
        return {ch["id"]: ch["pages"] for ch in self.manifest.get("chapters", [])}

    def previous(self) -> dict[str, Any]:
        """What this publisher remembered at the end of the last build, {} if nothing (or unreadable)."""
        return read_state(self.state_file) if self.state_file else {}

    def remember(self, data: Mapping[str, Any]) -> None:
        """Keep `data` for the next build's previous(), in the publisher's own state file."""
        if self.state_file is None:
            raise ValueError("this publisher declares no state_file")
        update_bytes(self.state_file, json.dumps(data, sort_keys=True, indent=0).encode())

    def previous_entries(self) -> dict[str, Any]:
        """The last build's manifest.json ({} if none or unreadable): the entries a publisher declared then."""
        return previous_manifest(self.out_dir)


@dataclass
class Published:
    """What a publisher made: the files it wrote, and its entries for the manifest (top-level keys; a dict
    value is merged into the same key's dict, as the talking books' "downloads")."""

    files: list[Path] = field(default_factory=list)
    entries: dict[str, Any] = field(default_factory=dict)
    encoded: int = 0
    """Sounds it encoded (the phone's count is BuildResult.phone_encoded)."""


class Publisher:
    """A publisher writes its files from the build (manifest data + audio already in place).

    It declares its `name`, the publishers it runs `after` (those whose files or manifest entries it reads or
    links to), the `folders` it writes in (swept of a killed build's temp files), its `state_file` (relative
    to the output folder, for BuildContext.previous/remember), and its manifest entries: `entries` (known
    before it runs: where its main files are), `chapter_entries` (per chapter) and the ones `publish` returns.
    Installed through an `audioguide.publishers` entry point."""

    name: ClassVar[str] = ""
    after: ClassVar[tuple[str, ...]] = ()
    folders: ClassVar[tuple[str, ...]] = ()
    state_file: ClassVar[str | None] = None

    def entries(self, guide: Guide) -> dict[str, Any]:
        return {}

    def chapter_entries(self, chapter: Chapter) -> dict[str, Any]:
        return {}

    def wants_chapter(self, ctx: BuildContext, chapter: Chapter, entry: ChapterTiming) -> bool:
        """Whether chapter_ready should run for this chapter (False: its files are up to date)."""
        return False

    def chapter_tap(self, ctx: BuildContext, chapter: Chapter, entry: ChapterTiming, wav: Path) -> Tap | None:
        """Optionally, this chapter's work as ffmpeg filters run in the chapter's limiter pass (audio.Tap), when
        its MP3 is encoded (entry: key, pages). A publisher whose tap ran says so in wants_chapter."""
        return None

    def chapter_ready(self, ctx: BuildContext, chapter: Chapter, entry: ChapterTiming, wav: Path) -> None:
        """Called while the chapter's MP3 is being encoded, with the chapter assembled in `wav` before loudness
        gain (entry: key, gain_db, pages). Per-chapter work then runs beside the MP3 encoder and the other
        chapters instead of waiting for all of them."""

    def parallel_jobs(self, ctx: BuildContext) -> list[Callable[[], object]]:
        """Independent jobs (callables) to run on the build's workers alongside the chapters."""
        return []

    def publish(self, ctx: BuildContext) -> Published | list[Path]:  # pragma: no cover - interface
        raise NotImplementedError


def end_sentence(text: str) -> str:
    """Close a sentence with a full stop unless it already ends one: a title "Pour qui ?" must not read "?."."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!", "…")) else text + "."


def previous_manifest(out_dir: Path) -> dict[str, Any]:
    """The last build's manifest.json in `out_dir`, or {} when there is none or it cannot be read: what a
    publisher compares with to leave an unchanged file alone."""
    import json

    try:
        old = json.loads((out_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return old if isinstance(old, dict) else {}


# The talking books, as the kiosk and the feed offer them: what a reader's app or player expects to open.
DOWNLOAD_LABELS = {"epub": "EPUB 3, texte lu en synchronisation", "daisy": "DAISY 2.02, pour lecteur DAISY"}


def downloads(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path from the output folder, link text with the size in French) for each talking book built."""
    found = manifest.get("downloads") or {}
    def size(n: int) -> str:
        return f"{n / 1e6:.1f}".replace(".", ",") + " Mo"

    return [(found[k]["path"], f"{label} ({size(found[k]['bytes'])})") for k, label in DOWNLOAD_LABELS.items()
            if k in found]


@lru_cache(maxsize=1)
def publisher_classes() -> dict[str, type[Publisher]]:
    """The installed publishers, each after the ones it declares in `after` (then by name): the talking books
    before the kiosk and the feed, which offer them for download; the feed after every file it links to."""
    found = {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINTS)}
    return {name: found[name] for name in run_order({n: getattr(c, "after", ()) for n, c in found.items()})}


def run_order(after: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Names in an order where each comes after the names it lists (those installed); ties by name."""
    waiting = {n: {a for a in deps if a in after and a != n} for n, deps in after.items()}
    order: list[str] = []
    while waiting:
        ready = sorted(n for n, deps in waiting.items() if not deps)
        if not ready:
            raise ValueError(f"publishers wait for each other: {', '.join(sorted(waiting))}")
        order.append(ready[0])
        del waiting[ready[0]]
        for deps in waiting.values():
            deps.discard(ready[0])
    return order
