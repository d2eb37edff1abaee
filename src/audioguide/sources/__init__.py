"""Guide source formats other than YAML. Each loader turns a file into the same raw tree (YMap/YList with
line marks) that the YAML loader gives, so `guide.parse_guide` validates every format alike."""

from __future__ import annotations

from pathlib import Path

MARKDOWN_SUFFIXES = (".md", ".markdown")
GUIDE_FILES = ("guide.yaml", "guide.md")
"""What a guide folder may hold, in the order they are looked for."""


def guide_file(folder: Path) -> Path:
    """The guide file of a folder: guide.yaml, else guide.md (guide.yaml is named when neither exists)."""
    return next((folder / n for n in GUIDE_FILES if (folder / n).exists()), folder / GUIDE_FILES[0])


def load_source(file: Path, display: str):
    """The raw tree of a guide file, by its format (Markdown by suffix, else YAML)."""
    if file.suffix.lower() in MARKDOWN_SUFFIXES:
        from audioguide.sources.markdown import load_markdown
        from audioguide.yamlsrc import check_size

        try:  # the YAML reader checks its own size
            check_size(file, display)
        except OSError:
            pass  # read_source says why the file cannot be read

        return load_markdown(file, display)
    from audioguide.yamlsrc import load_yaml

    return load_yaml(file, display)
