"""Publishers turn a finished build into files people use. Found through `audioguide.publishers` entry points."""

from __future__ import annotations

from importlib.metadata import entry_points


class Publisher:
    """A publisher writes its files from the build result (manifest data + audio already in place)."""

    name = ""

    def wants_chapter(self, result, chapter, entry: dict) -> bool:
        """Whether chapter_ready should run for this chapter (False: its files are up to date)."""
        return False

    def chapter_ready(self, result, chapter, entry: dict, wav) -> None:
        """Called by the worker that just made (or checked) a chapter's MP3, with the chapter assembled in
        `wav` before loudness gain (entry: key, sha256, duration, gain_db, pages). Per-chapter work then
        overlaps the other chapters' encoding instead of waiting for all of them."""

    def publish(self, result) -> list:  # pragma: no cover - interface
        raise NotImplementedError


def publisher_classes() -> dict[str, type[Publisher]]:
    found = {ep.name: ep.load() for ep in entry_points(group="audioguide.publishers")}
    # The feed goes last (before the manifest): everything it points at is already in place.
    order = ["transcripts", "phone", "kiosk", "podcast"]
    return dict(sorted(found.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0])))
