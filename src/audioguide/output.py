"""An output folder while a build writes it: its lock, its ownership journal and atomic writes, in one object.

files.py writes files safely and keeps the journal; lock.py keeps one build per folder; this joins them (it
imports both, neither imports the other back)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from audioguide.files import Ownership, atomic_path, update_bytes
from audioguide.lock import OutputLock


class OutputFolder:
    """`with OutputFolder(root, guide_id) as folder:` locks the folder and records every file written in it
    (through these methods, or any atomic write under it while the folder is open)."""

    def __init__(self, root: Path, guide_id: str):
        self.root = Path(root)
        self.guide_id = guide_id
        self._stack: ExitStack | None = None
        self._owner: Ownership | None = None

    def __enter__(self) -> OutputFolder:
        with ExitStack() as stack:
            stack.enter_context(OutputLock(self.root))
            self._owner = Ownership(self.root, self.guide_id)
            stack.callback(self._owner.close)  # until activated: a refused build still closes its journal
            self._stack = stack.pop_all()
        return self

    @contextmanager
    def recording(self, folders: tuple[str, ...] = ()) -> Iterator[OutputFolder]:
        """While in this `with`, every atomic write under the folder is recorded in its journal; temp files a
        killed build left in `folders` are swept first."""
        owner = self.owner
        with owner.active():
            owner.sweep_temp_files(folders)
            yield self

    def claim(self, folders: tuple[str, ...]) -> None:
        """More folders this build writes in: refused if one is a link, swept of a killed build's temp files."""
        self.owner.refuse_linked_folders(folders)
        self.owner.sweep_temp_files(folders)

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    @property
    def owner(self) -> Ownership:
        """The folder's ownership journal: what builds wrote there."""
        if self._owner is None:
            raise RuntimeError("the output folder is not open: use it in a `with`")
        return self._owner

    def path(self, rel: str) -> Path:
        return self.root / rel

    def update(self, rel: str, data: bytes) -> bool:
        """Write `rel` unless it already holds `data` (a no-change rebuild touches nothing). True if written."""
        return update_bytes(self.root / rel, data)

    @contextmanager
    def atomic(self, rel: str) -> Iterator[Path]:
        """A temporary path that replaces `rel` whole when the `with` ends without an error."""
        with atomic_path(self.root / rel) as tmp:
            yield tmp

    def finish(self) -> list[str]:
        """Remove the files the last build wrote that this one did not; the paths removed."""
        return self.owner.finish()
