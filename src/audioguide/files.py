"""Safe file writing: temp file in the same folder, fsync, rename. A reader never sees half a file."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from audioguide.exceptions import PublishError


def explain_os_error(exc: OSError, path: Path, *, what: str = "output") -> PublishError:
    """The user's words for a failed write. what="cache": `path` is the clip cache, set by --cache, not --out."""
    if what == "cache":
        return _explain_cache_error(exc, path)
    if exc.errno == errno.ENOSPC:
        return PublishError(f"Cannot write {path}: the disk is full.", cause="no space left on the device",
                            fix="free some space (or choose another --out folder) and build again; "
                                "finished files were kept")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PublishError(f"Cannot write {path}: permission denied or read-only folder.",
                            cause=exc.strerror, fix="choose a writable --out folder, or fix its permissions")
    return PublishError(f"Cannot write {path}: {exc.strerror}.", cause=exc.strerror)



def _explain_cache_error(exc: OSError, path: Path) -> PublishError:
    elsewhere = "--cache DIR or AUDIOGUIDE_CACHE=DIR"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return PublishError(f"Cannot write the clip cache {path}: the disk is full.",
                            cause="no space left on the device that holds the cache",
                            fix=f"free some space there, or move the cache to a bigger disk with {elsewhere}, "
                                "and build again; finished clips were kept")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PublishError(f"Cannot write the clip cache {path}: permission denied or read-only folder.",
                            cause=exc.strerror, fix=f"choose a writable cache folder with {elsewhere}, "
                                                    "or fix its permissions")
    return PublishError(f"Cannot write the clip cache {path}: {exc.strerror}.", cause=exc.strerror,
                        fix=f"choose another cache folder with {elsewhere}")


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str | None = None):
    """Yield a temporary path next to `path`; on success it replaces `path` atomically."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix or ".tmp",
                                   dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise explain_os_error(exc, path) from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except Exception as exc:
        # mutagen wraps the OSError of a full disk in its own error type; unwrap it to explain it.
        os_error = exc if isinstance(exc, OSError) else next((a for a in exc.args if isinstance(a, OSError)), None)
        if os_error is None:
            raise
        raise explain_os_error(os_error, path) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise explain_os_error(exc, path) from None


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def update_bytes(path: Path, data: bytes) -> bool:
    """Write only when the content differs, so a no-change rebuild touches nothing. True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_bytes(path, data)
    return True


def sweep_temp_files(folder: Path) -> int:
    """Remove temp files a killed build left behind (names start with '.' and hold a random part)."""
    n = 0
    if folder.exists():
        for p in folder.rglob(".*.*"):
            if p.is_file() and p.name.count(".") >= 2 and not p.name.startswith(".build"):
                with contextlib.suppress(OSError):
                    p.unlink()
                    n += 1
    return n
