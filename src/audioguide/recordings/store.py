"""A page's recording kept, replaced or removed from inside the guide's folder (the studio's recorder and uploads),
and what a take is worth before it is kept: its length against the page's text, clipped or noisy.

A recording replaced or removed is never lost: it moves to `recordings/<chapter-id>/anciennes/<page-id>.<date>.<ext>`,
which no build reads (find() looks only at `<page-id>.<ext>`)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from audioguide.exceptions import AudioguideError
from audioguide.i18n import _
from audioguide.recordings.find import EXTENSIONS, FOLDER

BACKUPS = "anciennes"


@dataclass
class Assessment:
    seconds: float
    """The whole take."""
    speech: float
    """From its first word to its last."""
    expected: float
    """What the page's text takes to read (check.expected_seconds)."""
    warnings: list[str] = field(default_factory=list)


def page_texts(guide, chapter_id: str, page_id: str) -> list[str]:
    """The page's own words (not its frame), as the build says them."""
    from audioguide.narration.script import ScriptWriter

    chapter = next(c for c in guide.chapters if c.id == chapter_id)
    for ps in ScriptWriter(guide).chapter(chapter):
        if ps.page.id == page_id:
            return [s.text for s in ps.segments if s.block is not None]
    return []


def assess(path: Path, where: str, texts: list[str], name: str | None = None) -> Assessment:
    """Decode a take (a French AudioError naming the page if ffmpeg cannot) and say what `check` and the build
    would say of it."""
    from audioguide.recordings.check import expected_seconds, length_problem, spoken
    from audioguide.recordings.process import decode, quality_warnings
    from audioguide.tts.base import RATE

    name = name or path.name
    try:
        y = decode(path, where)
    except AudioguideError as exc:  # named as the author knows it, not by the studio's scratch file
        raise type(exc)(exc.message.replace(str(path), name), cause=exc.cause, fix=exc.fix) from None
    took, want = spoken(y), expected_seconds(texts)
    warnings = quality_warnings(y, where, name)
    if took == 0:
        warnings.append(_("Page {where}: no voice is heard in {name}. Check that the right microphone is chosen "
                          "and that it is not muted.").format(where=where, name=name))
    else:
        far = length_problem(where, name, took, want)
        if far:
            warnings.append(far[:1].upper() + far[1:])
    return Assessment(len(y) / RATE, took, want, warnings)


def _inside(folder: Path, path: Path) -> Path:
    """`path` if it stays inside `folder` once links are followed; else a French error (the studio writes
    nothing outside the guide's folder)."""
    real_root, real = os.path.realpath(folder), os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise AudioguideError(_("The folder {path} leads outside the guide's folder: the studio does not write "
                                "there.").format(path=path.relative_to(folder)),
                              fix=_("replace this link by a real folder “{folder}” in the guide's folder").format(
                                  folder=FOLDER))
    return path


def current(folder: Path, chapter_id: str, page_id: str) -> Path | None:
    """The page's recording as find() sees it (the first extension in EXTENSIONS order)."""
    base = folder / FOLDER / chapter_id
    return next((base / f"{page_id}{ext}" for ext in EXTENSIONS if (base / f"{page_id}{ext}").is_file()), None)


def _set_aside(folder: Path, chapter_id: str, page_id: str, stamp: str) -> list[Path]:
    """Every recording of the page (any extension) moved to the chapter's `anciennes/` folder."""
    base = _inside(folder, folder / FOLDER / chapter_id)
    moved = []
    for ext in EXTENSIONS:
        old = base / f"{page_id}{ext}"
        if old.is_file() or old.is_symlink():
            aside = _inside(folder, base / BACKUPS)
            aside.mkdir(parents=True, exist_ok=True)
            target = aside / f"{page_id}.{stamp}{ext}"
            n = 2
            while target.exists():
                target = aside / f"{page_id}.{stamp}-{n}{ext}"
                n += 1
            os.replace(old, target)
            moved.append(target)
    return moved


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d-%H%M%S")


def keep(folder: Path, chapter_id: str, page_id: str, take: Path, ext: str) -> tuple[Path, list[Path]]:
    """Put the take at recordings/<chapter>/<page><ext>; (its path, the old recordings set aside)."""
    from audioguide.files import atomic_path

    if ext not in EXTENSIONS:
        raise AudioguideError(_("“{ext}” is not a recording format.").format(ext=ext),
                              fix=_("wav, flac, mp3, m4a, ogg or webm"))
    folder = Path(folder)
    base = _inside(folder, folder / FOLDER / chapter_id)
    moved = _set_aside(folder, chapter_id, page_id, _stamp())
    dest = base / f"{page_id}{ext}"
    with atomic_path(dest) as part:
        shutil.copyfile(take, part)
    return dest, moved


def remove(folder: Path, chapter_id: str, page_id: str) -> list[Path]:
    """The page goes back to the synthetic voice; its recordings are set aside, not deleted."""
    return _set_aside(Path(folder), chapter_id, page_id, _stamp())


def recorded(folder: Path, guide) -> set[tuple[str, str]]:
    """(chapter id, page id) of the pages of `guide` with a recording in `folder`."""
    return {(c.id, p.id) for c in guide.chapters for p in c.pages if current(Path(folder), c.id, p.id)}
