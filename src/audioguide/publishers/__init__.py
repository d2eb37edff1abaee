"""Publishers turn a finished build into files people use. Found through `audioguide.publishers` entry points."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points

ENTRY_POINTS = "audioguide.publishers"


class Publisher:
    """A publisher writes its files from the build result (manifest data + audio already in place)."""

    name = ""

    def wants_chapter(self, result, chapter, entry: dict) -> bool:
        """Whether chapter_ready should run for this chapter (False: its files are up to date)."""
        return False

    def chapter_ready(self, result, chapter, entry: dict, wav) -> None:
        """Called while the chapter's MP3 is being encoded, with the chapter assembled in `wav` before loudness
        gain (entry: key, gain_db, pages). Per-chapter work then runs beside the MP3 encoder and the other
        chapters instead of waiting for all of them."""

    def parallel_jobs(self, result) -> list:
        """Independent jobs (callables) to run on the build's workers alongside the chapters."""
        return []

    def publish(self, result) -> list:  # pragma: no cover - interface
        raise NotImplementedError


def end_sentence(text: str) -> str:
    """Close a sentence with a full stop unless it already ends one: a title "Pour qui ?" must not read "?."."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!", "…")) else text + "."


def previous_manifest(out_dir) -> dict:
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


def downloads(manifest: dict) -> list[tuple[str, str]]:
    """(path from the output folder, link text with the size in French) for each talking book built."""
    found = manifest.get("downloads") or {}
    def size(n: int) -> str:
        return f"{n / 1e6:.1f}".replace(".", ",") + " Mo"

    return [(found[k]["path"], f"{label} ({size(found[k]['bytes'])})") for k, label in DOWNLOAD_LABELS.items()
            if k in found]


@lru_cache(maxsize=1)
def publisher_classes() -> dict[str, type[Publisher]]:
    found = {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINTS)}
    # The feed goes last (before the manifest): everything it points at is already in place. The talking books
    # come before the kiosk and the feed, which offer them for download (manifest "downloads").
    order = ["transcripts", "epub", "daisy", "phone", "kiosk", "podcast"]
    return dict(sorted(found.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0])))
