"""Finding and reading a guide: its folder's guide.yaml or guide.md, read by its format, then checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from audioguide.exceptions import GuideError, Problem
from audioguide.guide.model import Guide
from audioguide.guide.parse import parse_guide
from audioguide.guide.yamlsrc import check_size, load_yaml

MARKDOWN_SUFFIXES = (".md", ".markdown")
GUIDE_FILES = ("guide.yaml", "guide.md")
"""What a guide folder may hold, in the order they are looked for."""


def guide_file(folder: Path) -> Path:
    """The guide file of a folder: guide.yaml, else guide.md (guide.yaml is named when neither exists)."""
    return next((folder / n for n in GUIDE_FILES if (folder / n).exists()), folder / GUIDE_FILES[0])


def load_source(file: Path, display: str):
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

def load_guide(path: str | Path) -> Guide:
    """Load a guide from its folder (holding guide.yaml or guide.md) or from the file itself."""
    p = Path(path)
    file = guide_file(p) if p.is_dir() else p
    if not file.exists():
        hint = f"a guide folder must contain {' or '.join(GUIDE_FILES)}" if p.is_dir() else "check the path"
        raise GuideError([Problem(str(file), None, None, "", "guide file not found", hint)])
    data = load_source(file, str(file))
    default_id = (file.parent.name if file.name in GUIDE_FILES else file.stem).lower()
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
    return dt.datetime.fromtimestamp(file.stat().st_mtime, dt.timezone.utc).date()
