"""Finding and reading a guide: its folder's guide.yaml or guide.md, read by its format, then checked."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from audioguide.exceptions import GuideError, Problem
from audioguide.guide.model import Guide
from audioguide.guide.parse import parse_guide
from audioguide.guide.yamlsrc import check_size, load_yaml
from audioguide.i18n import N_, _

MARKDOWN_SUFFIXES = (".md", ".markdown")
GUIDE_FILES = ("guide.yaml", "guide.md")
"""What a guide folder may hold, in the order they are looked for."""


def guide_file(folder: Path) -> Path:
    """The guide file of a folder: guide.yaml, else guide.md (guide.yaml is named when neither exists)."""
    return next((folder / n for n in GUIDE_FILES if (folder / n).exists()), folder / GUIDE_FILES[0])


def load_source(file: Path, display: str) -> Any:
    """The raw tree of a guide file, by its format (Markdown by suffix, else YAML): the same YMap/YList with
    line marks whatever the format, so `parse_guide` checks every format alike."""
    if file.suffix.lower() in MARKDOWN_SUFFIXES:
        from audioguide.guide.markdown import load_markdown

        try:  # the YAML reader checks its own size
            check_size(file, display)
        except OSError:
            pass  # read_source says why the file cannot be read

        return load_markdown(file, display)
    return load_yaml(file, display)

# Documents people give `build` or `check` instead of a guide: what the file is, and what to do with it.
# Marked with N_ (made at import time), translated where shown.
_IMPORT = N_("audioguide import {name} makes it a folder with guide.md, to review, then run check on that folder")
_RESAVE = N_("save it as .docx (File > Save As), then run audioguide import on the .docx")
OTHER_DOCUMENTS = {
    ".docx": (N_("this is a Word file: use audioguide import"), _IMPORT),
    ".pdf": (N_("this is a PDF file: use audioguide import"), _IMPORT),
    ".html": (N_("this is a web page: use audioguide import"), _IMPORT),
    ".htm": (N_("this is a web page: use audioguide import"), _IMPORT),
    ".doc": (N_("this is an old Word file (.doc), which audioguide import does not read"), _RESAVE),
    ".odt": (N_("this is a LibreOffice file (.odt), which audioguide import does not read"), _RESAVE),
    ".rtf": (N_("this is an RTF file, which audioguide import does not read"), _RESAVE),
}
# Names a guide file gets by mistake, once lowercased and without a ".txt" Windows hides: the right name.
_NEAR_NAMES = {"guide.yaml": "guide.yaml", "guide.yml": "guide.yaml", "guide.md": "guide.md",
               "guide.markdown": "guide.md"}


def _misnamed(folder: Path) -> Problem | None:
    """A guide file under a near name (guide.md.txt, Guide.md, guide.yml): say how to rename it."""
    for f in sorted(folder.iterdir()):
        name = f.name.lower().removesuffix(".txt")
        right = _NEAR_NAMES.get(name)
        if right and f.name != right and f.is_file():
            return Problem(str(f), None, None, "",
                           _("the guide file is named “{name}”: rename it “{right}”").format(name=f.name, right=right),
                           _("audioguide looks for exactly guide.yaml or guide.md, in lower case; Windows often "
                             "hides the “.txt” end of a name: in the Explorer, tick View > File name extensions "
                             "to see it"))
    return None


def _not_a_guide(p: Path, file: Path) -> Problem | None:
    """Why `file` cannot be read as a guide, before reading it: missing, misnamed, or another kind of document."""
    if not file.exists():
        if p.is_dir() and (problem := _misnamed(p)) is not None:
            return problem
        hint = _("a guide folder must contain {names}").format(names=_(" or ").join(GUIDE_FILES)) if p.is_dir() \
            else _("check the path")
        return Problem(str(file), None, None, "", _("guide file not found"), hint)
    if (other := OTHER_DOCUMENTS.get(file.suffix.lower())) is not None:
        return Problem(str(file), None, None, "", _(other[0]), _(other[1]).format(name=file.name))
    return None


def load_guide(path: str | Path) -> Guide:
    """Load a guide from its folder (holding guide.yaml or guide.md) or from the file itself."""
    p = Path(path)
    file = guide_file(p) if p.is_dir() else p
    if (problem := _not_a_guide(p, file)) is not None:
        raise GuideError([problem])
    data = load_source(file, str(file))
    # The folder's own name even when it is given as "." (absolute, but symbolic links kept as written).
    folder = Path(os.path.abspath(file)).parent.name
    default_id = (folder if file.name in GUIDE_FILES else file.stem).lower()
    guide = parse_guide(data, str(file), default_id)
    guide.path = file
    if guide.date is None:
        guide.date = file_date(file)
    return guide


def file_date(file: Path) -> dt.date:
    """The day a guide was last changed: its last commit when it is kept in git, else the file's own date.
    Both stay the same from one build to the next, so the feed's dates do too."""
    import subprocess

    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cs", "--", file.name], cwd=file.parent,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if out and not subprocess.run(["git", "status", "--porcelain", "--", file.name], cwd=file.parent,
                                      capture_output=True, text=True, timeout=10).stdout.strip():
            return dt.date.fromisoformat(out)
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC).date()
