"""One build per output folder. A lock left by a killed build is detected (dead PID) and taken over."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from audioguide.exceptions import LockError

log = logging.getLogger(__name__)
LOCK_NAME = ".lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputLock:
    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self.held = False

    def __enter__(self):
        try:
            return self._acquire()
        except OSError as exc:  # a read-only or full disk shows up here first
            from audioguide.files import explain_os_error

            raise explain_os_error(exc, self.path.parent) from None

    def _acquire(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    pid_s, _, host = self.path.read_text().partition(" ")
                    pid = int(pid_s)
                except (OSError, ValueError):
                    pid, host = -1, ""
                if pid > 0 and host.strip() == socket.gethostname() and _alive(pid) and pid != os.getpid():
                    raise LockError(f"Another build (process {pid}) is writing {self.path.parent}.",
                                    cause="two builds were started on the same output folder",
                                    fix="wait for the other build to finish, or use another --out folder")
                log.warning("Taking over a stale lock left by process %s (no longer running).", pid_s.strip())
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            self.held = True
            return self
        raise LockError(f"Could not lock {self.path.parent}.", fix="remove the file " + str(self.path))

    def __exit__(self, *exc):
        if self.held:
            self.path.unlink(missing_ok=True)
        return False
