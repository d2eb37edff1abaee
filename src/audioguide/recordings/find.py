"""Where a page's recording is: recordings/<chapter id>/<page id>.<ext> beside the guide file."""

from __future__ import annotations

import hashlib
from pathlib import Path

EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".webm")
FOLDER = "recordings"


def folder(guide) -> Path | None:
    return Path(guide.path).parent / FOLDER if getattr(guide, "path", None) else None


def find(guide) -> dict[tuple[str, str], Path]:
    """(chapter id, page id) -> the recording of that page, for every page of the guide that has one (the
    first extension in EXTENSIONS order when there are several)."""
    root = folder(guide)
    found: dict[tuple[str, str], Path] = {}
    if root is None or not root.is_dir():
        return found
    for ch in guide.chapters:
        for page in ch.pages:
            for ext in EXTENSIONS:
                path = root / ch.id / f"{page.id}{ext}"
                if path.is_file():
                    found[(ch.id, page.id)] = path
                    break
    return found


def digest(guide) -> list[list[str]]:
    """[chapter id, page id, sha256 of the bytes] of every recording: for the build's early-stop key."""
    return [[c, p, hashlib.sha256(path.read_bytes()).hexdigest()] for (c, p), path in sorted(find(guide).items())]
