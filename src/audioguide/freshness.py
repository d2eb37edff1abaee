"""Whether a build would write exactly what the output folder already holds, so a no-change rebuild can stop
after a few stats instead of narrating, hashing clips and re-rendering every publisher (make's rule, with the
whole build as one target).

A build's bytes are a function of its inputs: the guide as read, its file, its date, the settings that shape the output,
the engine's identity (voice file, espeak-ng version…), this package's code, the libraries that write
bytes, the publishers installed and the cover's font. The last whole build records the key of those inputs in
its state file; the output is up to date when the key is the same, no build has written there since (the
ownership record is as that build left it), and every file that build recorded is as it was written (size and
mtime, the ownership record's own trust rule). Anything else, even one file touched, takes the normal,
incremental build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sys
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath

from audioguide import versions
from audioguide.audio import encoders
from audioguide.files import Ownership
from audioguide.publishers import ENTRY_POINTS
from audioguide.publishers.cover import font_file
from audioguide.recordings.find import digest as recordings_digest

# Settings that change where or how fast a build runs, not what it writes.
NOT_OUTPUT = {"out_dir", "cache_dir", "jobs", "clean", "progress", "allow_foreign_files"}
# Libraries whose upgrade can change the bytes written (cover JPEG, tags, XML, numbers in words, parsing).
LIBRARIES = ("pillow", "mutagen", "lxml", "num2words", "pyyaml", "markdown-it-py")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """This package's files (code, tables, kiosk assets) and the libraries' versions."""
    root = Path(__file__).parent
    h = hashlib.sha256(sys.version.encode())
    for path in sorted(p for p in root.rglob("*") if "__pycache__" not in p.parts and p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    h.update("\0".join(versions(*LIBRARIES)).encode())
    return h.hexdigest()


def publishers() -> list[list]:
    """The publishers installed (entry points, not loaded: that imports narration) and the version of any that
    another distribution brings: a plugin installed, upgraded or removed writes other files. Ours are in
    code_fingerprint()."""
    found = []
    for ep in sorted(entry_points(group=ENTRY_POINTS), key=lambda ep: (ep.name, ep.value)):
        dist = ep.dist.name if ep.dist else None
        found.append([ep.name, ep.value, dist,
                      ep.dist.version if ep.dist and dist not in (None, "audioguide") else None])
    return found


def _content(obj, above: tuple = ()):
    """The guide as it was read, every field (a chapter's part, seen from the part, as "^"), for JSON."""
    if dataclasses.is_dataclass(obj):
        if any(obj is a for a in above):
            return "^"
        above += (obj,)
        return {f.name: _content(getattr(obj, f.name), above) for f in dataclasses.fields(obj) if f.name != "path"}
    if isinstance(obj, (list, tuple)):
        return [_content(x, above) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _content(v, above) for k, v in obj.items()}
    return obj


def inputs_key(guide, settings, engine) -> str:
    """The key of everything that shapes a build's output."""
    path = Path(guide.path)
    shaping = {k: v for k, v in dataclasses.asdict(settings).items() if k not in NOT_OUTPUT}
    fonts = [(str(f), f.stat().st_size) for f in map(font_file, (False, True)) if f]  # the cover is drawn with them
    # The file's bytes now, and what the build read of it (3 ms for e-santé): saved again in between, the file
    # says one text and the output another, and the next build, reading the file again, must not stop early.
    blob = json.dumps({"code": code_fingerprint(), "settings": shaping, "engine": engine.identity(), "fonts": fonts,
                       "encoders": encoders(),
                       "recordings": recordings_digest(guide),  # recordings (issue 28): their bytes
                       "publishers": publishers(), "warnings heard": Warnings.heard(), "content": _content(guide),
                       "guide": [path.name, guide.id, str(guide.date), hashlib.sha256(path.read_bytes()).hexdigest()]},
                      sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def up_to_date(state: dict, key: str, owner: Ownership, manifest: str) -> list[Path] | None:
    """The files of the last build when it had these inputs and every one of them is still as it was
    written; otherwise None."""
    if state.get("inputs") != key or manifest not in owner.published or not _as_finished(owner):
        return None
    files = []
    for rel in sorted(owner.published):
        # Written over by another guide's build, by one that stopped while writing it (pending), or since.
        if not owner.ours(rel) or not owner.as_written(rel):
            return None
        files.append(owner.root / rel)
    if any(e.get("guide") == owner.guide and rel not in owner.published for rel, e in owner.entries.items()):
        return None  # files the last build no longer named are still there, to be removed by this one
    try:
        named = named_files(json.loads((owner.root / manifest).read_text("utf-8")))
    except (OSError, ValueError):
        return None
    # Every file the manifest names, whether or not the record holds it (one written through a link was not
    # recorded, then removed): a feed naming a missing MP3 is not "nothing changed".
    for rel in named:
        if rel.endswith("/"):
            if not (owner.root / rel).is_dir() or (owner.root / rel.rstrip("/")).is_symlink():
                return None
        elif rel not in owner.published:
            return None
    return files


NOT_FILES = {"guide", "pages", "engine", "audio", "id", "title", "description", "key", "sha256", "name", "generator",
             "media_type"}  # the guide's own fields, the cues' text, settings and hashes: no file names there


def named_files(node, key: str | None = None) -> set[str]:
    """The files (and folders, ending in "/") a manifest names: its values that are relative paths with an
    extension, outside the guide's own fields and the cues' text."""
    if isinstance(node, dict):
        return {f for k, v in node.items() if k not in NOT_FILES for f in named_files(v, k)}
    if isinstance(node, list):
        return {f for v in node for f in named_files(v, key)}
    if isinstance(node, str) and node and not any(c.isspace() for c in node) and ":" not in node \
            and not node.startswith("/") and (node.endswith("/") or PurePosixPath(node).suffix):
        return {node}
    return set()


def _as_finished(owner: Ownership) -> bool:
    """Whether the ownership record is exactly as the last finished build compacted it (Ownership.finish).
    A build that stopped since (killed, or failed on a full disk) appended lines: it may have rewritten a
    published file with other inputs' bytes and recorded it, so that file's size and mtime vouch for bytes
    the last finished build did not write. Going back to that build's inputs must not keep them."""
    try:
        return owner.file.read_bytes() == owner.compacted()
    except OSError:
        return False


class Warnings(logging.Handler):
    """Collects what a build warns about the guide itself (a caption too long, no owner's email), so that a
    rebuild that skips the work says it again: an unchanged guide with a problem says so every time. Not the
    incidents of one run (a damaged clip made again, a retry): the next run does not have them."""

    ABOUT_THE_GUIDE = ("audioguide.publishers", "audioguide.narration", "audioguide.phone")

    @classmethod
    def heard(cls) -> list[bool]:
        """Whether the build can hear them: under `audioguide -q` no warning is even made, so that build
        records none, and a later build with these inputs but not quiet must say them, not replay nothing."""
        return [logging.getLogger(name).isEnabledFor(logging.WARNING) for name in cls.ABOUT_THE_GUIDE]

    def __init__(self):
        super().__init__(logging.WARNING)
        self.found: set[str] = set()

    @property
    def messages(self) -> list[str]:
        return sorted(self.found)  # the workers' order varies; the state file must not

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(self.ABOUT_THE_GUIDE):
            self.found.add(record.getMessage())

    def __enter__(self) -> Warnings:
        logging.getLogger("audioguide").addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger("audioguide").removeHandler(self)
