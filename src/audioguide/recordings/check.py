"""What `audioguide check` says of the recordings: which pages are recorded, which are not, recordings whose
length is far from what their page's text takes (the wrong file, a missing paragraph), and files that match no
page (a misspelt id)."""

from __future__ import annotations

from pathlib import Path

from audioguide.exceptions import AudioguideError
from audioguide.i18n import _
from audioguide.recordings.find import EXTENSIONS, find, folder

READING_WPM = 150  # a volunteer reading aloud, measured range 130-180
SENTENCE_GAP_S = 0.5
FAR = 2.0  # more than twice as long or less than half: worth a look


def expected_seconds(texts: list[str]) -> float:
    words = sum(len(t.split()) for t in texts)
    return words * 60 / READING_WPM + SENTENCE_GAP_S * max(0, len(texts) - 1)


def speech_seconds(path, where: str) -> float:
    from audioguide.recordings.process import decode

    return spoken(decode(path, where))


def spoken(y) -> float:
    """Seconds from the first word to the last of decoded samples at the build's rate."""
    from audioguide.recordings.align import speech_edges
    from audioguide.tts.base import RATE

    on, off = speech_edges(y.astype("float32"), RATE, min_pause_s=0.3)
    return float(off[-1] - on[0]) if len(on) else 0.0


def length_problem(where: str, name: str, took: float, want: float) -> str | None:
    if want / FAR <= took <= want * FAR:
        return None
    return _("page {where}: the recording {name} lasts {took} s, while its text reads in about {want} s. Is it the "
             "right file, and does it read the whole page?").format(where=where, name=name, took=f"{took:.0f}",
                                                                    want=f"{want:.0f}")


def length_warning(where: str, name: str, took: float, want: float) -> str | None:
    problem = length_problem(where, name, took, want)
    return _("Warning: {message}").format(message=problem) if problem else None


def _page_lines(ps, where: str, path: Path, root: Path) -> list[str]:
    """A recorded page's problem, if any: unreadable, or far longer or shorter than its text."""
    texts = [s.text for s in ps.segments if s.block is not None]
    try:
        took = speech_seconds(path, where)
    except AudioguideError as exc:
        return [_("Error: {error}").format(error=exc)]
    far = length_warning(where, str(path.relative_to(root.parent)), took, expected_seconds(texts))
    return [far] if far else []


def _strays(guide, root: Path) -> list[str]:
    """Sound files in recordings/ that name no page (a renamed page, a typo in the file name)."""
    pages = {(ch.id, pg.id) for ch in guide.chapters for pg in ch.pages}
    return [_("Warning: {message}").format(message=_(
                "{path} matches no page of the guide (the folder bears the chapter's id, the file the page's)."
            ).format(path=path.relative_to(root.parent)))
            for path in (sorted(root.glob("*/*")) if root.is_dir() else [])
            if path.suffix.lower() in EXTENSIONS and (path.parent.name, path.stem) not in pages]


def report(guide) -> list[str]:
    """Lines for the check command; none when the guide has no recordings folder."""
    root = folder(guide)
    if root is None or not (root.is_dir() or any(p.recording for c in guide.chapters for p in c.pages)):
        return []
    from audioguide.narration.script import ScriptWriter
    from audioguide.recordings import require

    found = find(guide)
    if found:
        require()
    writer = ScriptWriter(guide)
    recorded: list[str] = []
    synthetic: list[str] = []
    lines: list[str] = []
    for ch in guide.chapters:
        for ps in writer.chapter(ch):
            where = f"{ch.id}/{ps.page.id}"
            path = found.get((ch.id, ps.page.id))
            (synthetic if path is None else recorded).append(where)
            if path is not None:
                lines += _page_lines(ps, where, path, root)
    lines += _strays(guide, root)
    head = [_("Pages read by a human voice ({n}): {pages}.").format(n=len(recorded),
                                                                     pages=", ".join(recorded) or _("none (pages)")),
            _("Pages in the synthetic voice ({n}): {pages}.").format(n=len(synthetic),
                                                                      pages=", ".join(synthetic) or _("none (pages)"))]
    return head + lines
