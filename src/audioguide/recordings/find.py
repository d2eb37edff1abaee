"""Where a page's recording is: recordings/<chapter id>/<page id>.<ext> beside the guide file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from audioguide.guide.rules import RECORDING_EXTENSIONS as EXTENSIONS

FOLDER = "recordings"


def folder(guide) -> Path | None:
    return Path(guide.path).parent / FOLDER if getattr(guide, "path", None) else None


def declared(guide, chapter, page) -> Path:
    """The file a page's `recording:` names, once it is known to be there and inside the guide's folder."""
    import os

    from audioguide.exceptions import GuideError, Problem

    base = Path(guide.path).parent
    path = base / page.recording
    real_base = os.path.realpath(base)
    inside = os.path.commonpath([real_base, os.path.realpath(path)]) == real_base
    if not path.is_file() or not inside:
        why = "is not there" if inside else "leads out of the guide's folder"
        raise GuideError([Problem(Path(guide.path).name, page.line, None, f"{chapter.id}/{page.id}: recording",
                                  f"the recording {page.recording} of page {page.title!r} {why}",
                                  "put the file there (its path is read from the guide's folder), or remove the "
                                  "`recording:` line to keep the synthetic voice")])
    return path


def find(guide) -> dict[tuple[str, str], Path]:
    """(chapter id, page id) -> the recording of that page, for every page of the guide that has one: the file
    its `recording:` names, else recordings/<chapter id>/<page id> (the first extension in EXTENSIONS order
    when there are several)."""
    root = folder(guide)
    found: dict[tuple[str, str], Path] = {}
    if root is None:
        return found
    for ch in guide.chapters:
        for page in ch.pages:
            if getattr(page, "recording", None):
                found[(ch.id, page.id)] = declared(guide, ch, page)
                continue
            if not root.is_dir():
                continue
            for ext in EXTENSIONS:
                path = root / ch.id / f"{page.id}{ext}"
                if path.is_file():
                    found[(ch.id, page.id)] = path
                    break
    return found


def digest(guide) -> list[list[str]]:
    """[chapter id, page id, sha256 of the bytes] of every recording: for the build's early-stop key."""
    return [[c, p, hashlib.sha256(path.read_bytes()).hexdigest()] for (c, p), path in sorted(find(guide).items())]
