"""One build per output folder.

The lock is `fcntl.flock` on the open `.lock` file, held for the whole build: taking it is atomic, and the kernel
releases it when the process dies, however it dies. The PID written inside is only there to name the holder in
the message, and to respect a lock written by an older version that did not use flock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import socket
from pathlib import Path

from audioguide.exceptions import LockError
from audioguide.files import LOCK_NAME, explain_os_error, refuse_link
from audioguide.i18n import _

log = logging.getLogger(__name__)
__all__ = ["LOCK_NAME", "OutputLock"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _busy(folder: Path, pid: int | None) -> LockError:
    message = _("Another build (process {pid}) is writing {folder}.") if pid else \
        _("Another build is writing {folder}.")
    return LockError(message.format(pid=pid, folder=folder),
                     cause=_("two builds were started on the same output folder"),
                     fix=_("wait for the other build to finish, or use another --out folder"))


class OutputLock:
    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self.fd: int | None = None

    def __enter__(self):
        try:
            return self._acquire()
        except OSError as exc:  # a read-only or full disk shows up here first
            raise explain_os_error(exc, self.path.parent) from None

    def _acquire(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(10):
            fd = _open(self.path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid, _host = _read_owner(fd)
                os.close(fd)
                raise _busy(self.path.parent, pid) from None
            except BaseException:
                os.close(fd)
                raise
            # The holder we waited on may have removed the file before we locked it: then we hold a lock on a
            # file nobody else will open. Start again on the file now at that path.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            try:
                self._claim(fd)
            except BaseException:
                os.close(fd)
                raise
            self.fd = fd
            return self
        raise LockError(_("Could not lock {folder}.").format(folder=self.path.parent),
                        cause=_("the lock file keeps being replaced"),
                        fix=_("make sure no other program writes this folder, then build again"))

    def _claim(self, fd: int) -> None:
        pid, host = _read_owner(fd)
        if pid and pid != os.getpid():
            if host == socket.gethostname() and _alive(pid):
                # Written by a build that does not use flock (an older audioguide), and still running.
                raise _busy(self.path.parent, pid)
            log.warning(_("Taking over a stale lock left by process %d (no longer running)."), pid)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        except OSError:  # another user's lock file, opened read-only: the flock is ours all the same
            pass

    def __exit__(self, *exc):
        if self.fd is not None:
            # Remove the file while still holding the lock, so the next build never inherits this PID.
            with contextlib.suppress(OSError):  # a folder gone read-only: the lock goes with the descriptor
                self.path.unlink()
            os.close(self.fd)
            self.fd = None
        return False


def _open(path: Path) -> int:
    # O_NOFOLLOW: a link planted at .lock would have the lock written (truncated) into the file it points at.
    try:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except PermissionError:
            # Left by another user: flock works on a read-only descriptor too, so the folder stays protected.
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            refuse_link(path, _("a build's lock file"))
        raise


def _read_owner(fd: int) -> tuple[int | None, str]:
    """(pid, host) written in the lock file, or (None, "") while it is still empty or unreadable."""
    try:
        pid_s, _sep, host = os.pread(fd, 256, 0).decode("utf-8", "replace").partition(" ")
        return int(pid_s), host.strip()
    except (OSError, ValueError):
        return None, ""
