"""Safe file writing: temp file in the same folder, fsync, rename. A reader never sees half a file.

Every file a build writes in its output folder is recorded (path, size, mtime_ns, sha256) in the folder's
ownership record, so a later build removes only files an audioguide build made, and checks a published file
against the hash recorded when it was written (cheaply: a file whose size and mtime still match is trusted).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TextIO

from audioguide.exceptions import ConfigError, PublishError
from audioguide.i18n import _

log = logging.getLogger(__name__)
TEMP_PREFIX = ".audioguide-tmp-"  # nothing else is ever swept: a user's dotfiles cannot match by accident
OWNERSHIP_NAME = ".audioguide-files.jsonl"
LOCK_NAME = ".lock"  # lock.py's file: named here, so that files.py needs nothing from lock.py


def explain_os_error(exc: OSError, path: Path, *, what: str = "output") -> PublishError:
    """The user's words for a failed write. what="cache": `path` is the clip cache, set by --cache, not --out."""
    if what == "cache":
        return _explain_cache_error(exc, path)
    if exc.errno == errno.ENOSPC:
        return PublishError(_("Cannot write {path}: the disk is full.").format(path=path),
                            cause=_("no space left on the device"),
                            fix=_("free some space (or choose another --out folder) and build again; "
                                  "finished files were kept"))
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PublishError(_("Cannot write {path}: permission denied or read-only folder.").format(path=path),
                            cause=exc.strerror, fix=_("choose a writable --out folder, or fix its permissions"))
    return PublishError(_("Cannot write {path}: {reason}.").format(path=path, reason=exc.strerror),
                        cause=exc.strerror)



def _explain_cache_error(exc: OSError, path: Path) -> PublishError:
    elsewhere = "--cache DIR or AUDIOGUIDE_CACHE=DIR"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return PublishError(_("Cannot write the clip cache {path}: the disk is full.").format(path=path),
                            cause=_("no space left on the device that holds the cache"),
                            fix=_("free some space there, or move the cache to a bigger disk with {elsewhere}, "
                                  "and build again; finished clips were kept").format(elsewhere=elsewhere))
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PublishError(_("Cannot write the clip cache {path}: permission denied or read-only "
                              "folder.").format(path=path),
                            cause=exc.strerror, fix=_("choose a writable cache folder with {elsewhere}, "
                                                      "or fix its permissions").format(elsewhere=elsewhere))
    return PublishError(_("Cannot write the clip cache {path}: {reason}.").format(path=path, reason=exc.strerror),
                        cause=exc.strerror, fix=_("choose another cache folder with {elsewhere}").format(
                            elsewhere=elsewhere))


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str | None = None, name_from: Callable[[Path], Path] | None = None):
    """Yield a temporary path next to `path`; on success it replaces `path` atomically (or the path that
    `name_from(finished temp file)` returns, for content-addressed names)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=suffix or path.suffix or ".tmp",
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
        if name_from:
            path = name_from(tmp_path)
        owner = owner_of(path)
        if owner:
            owner.intend(path, tmp_path)  # recorded before the name appears: a kill right after leaves it ours
        os.replace(tmp_path, path)
        if owner:
            owner.record(path)
    except Exception as exc:
        # mutagen wraps the OSError of a full disk in its own error type; unwrap it to explain it.
        os_error = exc if isinstance(exc, OSError) else next((a for a in exc.args if isinstance(a, OSError)), None)
        if os_error is None:
            raise
        raise explain_os_error(os_error, path) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


LOW_SPACE = 1 << 20


def nearly_full(folder: Path) -> bool:
    """Whether a folder's disk has less than 1 MiB free: tools that ignore their own write errors (espeak-ng,
    ffmpeg at an MP3's trailer) leave a cut file there, which is then to be explained as a full disk."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < LOW_SPACE


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise explain_os_error(exc, path) from None


def write_text(path: Path, text: str) -> None:
    """Write a whole file safely: a fresh temp file (O_EXCL, so a link planted at its name redirects nothing),
    renamed over `path` (which replaces a link there instead of writing through it). For every file a
    command writes for the user, not only builds."""
    write_bytes(path, text.encode("utf-8"))


def refuse_link(path: Path, what: str) -> None:
    """A build's own bookkeeping file (lock, ownership record) must be a plain file: written through a link,
    it would overwrite whatever the link points at."""
    if os.path.islink(path):
        raise PublishError(_("{path} is a symbolic link (to {target}), not {what}.").format(
                               path=path, target=os.readlink(path), what=what),
                           cause=_("a build writes this file itself; through the link it would overwrite the "
                                   "file the link points at"),
                           fix=_("delete the link ({path}) and build again; the build makes the file "
                                 "anew").format(path=path))


def read_state(path: Path, shaped: Callable[[dict], bool] = lambda d: True) -> dict:
    """A state file a build left (JSON object), or {} when there is none, it cannot be read, or it is not of the
    shape this version writes (edited by hand, another tool's): the build then checks everything again, with
    a warning, instead of a traceback on every build until --clean."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if isinstance(data, dict) and shaped(data):
        return data
    log.warning(_("%s is not a build state this version wrote; it is ignored, and every output file it "
                  "describes is checked again."), path)
    return {}


def update_bytes(path: Path, data: bytes) -> bool:
    """Write only when the content differs, so a no-change rebuild touches nothing. True if written."""
    try:
        if path.read_bytes() == data:
            owner = owner_of(path)
            if owner:
                owner.keep(path, hashlib.sha256(data).hexdigest())
            return False
    except OSError:
        pass
    write_bytes(path, data)
    return True


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def matches(path: Path, sha256: str) -> bool:
    """Whether `path` holds exactly the content with this hash. Trusts the ownership record while the
    file's size and mtime are those recorded at write time; otherwise reads the file again."""
    owner = owner_of(path)
    if owner:
        return owner.matches(path, sha256)
    try:
        return sha256_file(path) == sha256
    except OSError:
        return False


def digest(path: Path) -> str:
    """sha256 of a file, from the ownership record when the file is unchanged since it was recorded."""
    owner = owner_of(path)
    return owner.digest(path) if owner else sha256_file(path)


# --- ownership ------------------------------------------------------------------------------------------

_owners: dict[Path, Ownership] = {}
_owners_lock = threading.Lock()
_real_folders: dict[str, Path] = {}
"""Folder -> its resolved path, kept only while a build is active (a no-change rebuild checks ~1,300 files)."""


def _abs(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    folder = str(path.parent)
    real = _real_folders.get(folder)
    if real is None:
        try:
            real = path.parent.resolve()
        except OSError:
            return path
        if _owners:  # a build's folders do not move while it runs; resolving each costs a stat per component
            _real_folders[folder] = real
    return real / path.name


def owner_of(path: Path) -> Ownership | None:
    """The active ownership record of the output folder that holds `path`, if a build is writing there."""
    if not _owners:
        return None
    lexical = Path(os.path.abspath(path))
    path = _abs(path)
    with _owners_lock:
        for root, owner in _owners.items():
            if path.is_relative_to(root) and path != root / OWNERSHIP_NAME:
                return owner
            if lexical.is_relative_to(owner.given):  # in the folder by name, outside it by a link
                raise owner.linked_folder_error(lexical.parent)
    return None


class Ownership:
    """The record of what builds wrote in one output folder: an append-only journal of JSON lines (so a
    build killed at any moment leaves a true record), compacted when a build finishes.

    Lines: {"path", "guide", "pending": true, "size", "mtime_ns"} before a file is renamed into place; {"path",
    "guide", "size", "mtime_ns", "sha256"} after; {"path", "removed": true}; {"published": [paths]} for a
    finished build."""

    def __init__(self, root: Path, guide_id: str):
        self.given = Path(os.path.abspath(root))
        self.root = Path(root).resolve()
        refuse_link(self.root / OWNERSHIP_NAME, _("the build's record of its files"))
        self.guide = guide_id
        self.file = self.root / OWNERSHIP_NAME
        self.entries: dict[str, dict] = {}
        self.published: set[str] = set()
        self.kept: set[str] = set()  # what this build wrote or found up to date: the new generation
        self._lock = threading.RLock()
        self._fh: TextIO | None = None
        self._folders: dict[str, bool] = {}
        self.linked: set[str] = set()
        self.ignored: list[str] = []  # lines naming files outside the folder: never acted on
        self._load()
        if self.ignored:
            _warn_ignored(self.file, self.ignored)

    def _load(self) -> None:
        for e in _journal_lines(self.file):
            if isinstance(e.get("published"), list):
                self.published = {p for p in e["published"] if isinstance(p, str) and self._inside(p)}
            elif isinstance(e.get("path"), str):
                if not self._inside(e["path"]):
                    self.ignored.append(repr(e["path"]))
                elif e.get("removed"):
                    self.entries.pop(e["path"], None)
                else:
                    self.entries[e["path"]] = e

    def _inside(self, rel: str) -> bool:
        """Whether a recorded path names a file in this folder, as a build records it: relative, plain, and
        through no link (the record travels with a copied folder; a hand-edited or planted line must not
        reach `../victim.txt`, `/etc/...` or a folder outside by a link)."""
        p = PurePosixPath(rel)
        if not rel or "\0" in rel or p.is_absolute() or ".." in p.parts or p.as_posix() != rel:
            return False
        parent = self.root / p.parent
        key = str(parent)
        if key not in self._folders:  # a few folders for ~1,300 lines
            try:
                self._folders[key] = parent.resolve() == parent
            except (OSError, RuntimeError):
                self._folders[key] = False
            if not self._folders[key]:
                self.linked.add(p.parent.as_posix())  # a folder of the build's, linked away since: refused
        return self._folders[key]

    # -- reading ---------------------------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        return _abs(path).relative_to(self.root).as_posix()

    def ours(self, rel: str) -> bool:
        return rel in self.entries and self.entries[rel].get("guide") == self.guide

    def refuse_linked_folders(self, folders=()) -> None:
        """Refuse a build whose folders (these, and those of the files it recorded) are links: see
        linked_folder_error. Checked before any work; owner_of() catches any other folder as it is written."""
        recorded = {PurePosixPath(rel).parent.as_posix() for rel in self.entries}
        for rel in sorted(set(folders) | self.linked | recorded):
            folder = self.root
            for part in PurePosixPath(rel).parts:
                folder = folder / part
                if folder.is_symlink():
                    raise self.linked_folder_error(folder)

    def linked_folder_error(self, folder: Path) -> ConfigError:
        return linked_folder_error(self.given, folder)

    def foreign_files(self) -> tuple[list[str], dict[str, str]]:
        """Files no audioguide build recorded, and files recorded for another guide (path -> guide id)."""
        return foreign_files(self.root, self.entries, self.guide)

    def as_written(self, rel: str) -> bool:
        """Whether the file is still as recorded when it was written (its size and mtime): the trust rule."""
        try:
            st = os.stat(self.root / rel)
        except OSError:
            return False
        with self._lock:
            return self._stat_matches(rel, st)

    def _stat_matches(self, rel: str, st: os.stat_result) -> bool:
        e = self.entries.get(rel)
        return bool(e and "sha256" in e and e.get("size") == st.st_size and e.get("mtime_ns") == st.st_mtime_ns)

    def digest(self, path: Path) -> str:
        rel = self.rel(path)
        with self._lock:
            if self._stat_matches(rel, os.stat(path)):
                return self.entries[rel]["sha256"]
        return sha256_file(path)

    def matches(self, path: Path, sha256: str) -> bool:
        rel = self.rel(path)
        try:
            st = os.stat(path)
        except OSError:
            return False
        with self._lock:
            if self._stat_matches(rel, st):
                ok = self.entries[rel]["sha256"] == sha256
                if ok:
                    self.kept.add(rel)
                return ok
        try:
            actual = sha256_file(path)
        except OSError:
            return False
        if actual != sha256:
            return False
        self.keep(path, actual)
        return True

    # -- writing ---------------------------------------------------------------------------------------
    def _append(self, entry: dict) -> None:
        line = json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                if self._fh is None:
                    with contextlib.suppress(OSError), open(self.file, "rb") as fh:
                        fh.seek(-1, os.SEEK_END)
                        if fh.read(1) != b"\n":
                            line = "\n" + line  # a line cut short must not swallow the next one
                    fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                                 0o644)
                    self._fh = open(fd, "a", encoding="utf-8")
                self._fh.write(line)
                self._fh.flush()  # in the kernel's hands: it survives a SIGKILL of this process
            except OSError as exc:
                raise explain_os_error(exc, self.file) from None

    def intend(self, path: Path, tmp: Path) -> None:
        """Before `tmp` is renamed to `path`: its size and mtime (a rename keeps both) say later whether the
        file at `path` is still the one this build put there."""
        rel = self.rel(path)
        st = os.stat(tmp)
        with self._lock:
            if not self.ours(rel):
                entry = {"path": rel, "guide": self.guide, "pending": True, "size": st.st_size,
                         "mtime_ns": st.st_mtime_ns}
                self.entries[rel] = entry
                self._append(entry)

    def record(self, path: Path, sha256: str | None = None) -> None:
        rel = self.rel(path)
        st = os.stat(path)
        sha256 = sha256 or sha256_file(path)
        entry = {"path": rel, "guide": self.guide, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
        with self._lock:
            self.kept.add(rel)
            if self.entries.get(rel) != entry:
                self.entries[rel] = entry
                self._append(entry)

    def keep(self, path: Path, sha256: str) -> None:
        """A file found already holding what this build would write: it belongs to this build too."""
        rel = self.rel(path)
        with self._lock:
            with contextlib.suppress(OSError):
                if self.ours(rel) and self._stat_matches(rel, os.stat(path)) \
                        and self.entries[rel]["sha256"] == sha256:
                    self.kept.add(rel)
                    return
            self.record(path, sha256)

    @contextlib.contextmanager
    def active(self):
        """While active, every atomic write under the folder is recorded here."""
        with _owners_lock:
            _owners[self.root] = self
            _real_folders.clear()
        try:
            yield self
        finally:
            with _owners_lock:
                _owners.pop(self.root, None)
                _real_folders.clear()
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                with contextlib.suppress(OSError):
                    self._fh.close()
                self._fh = None

    def sweep_temp_files(self, subfolders=()) -> int:
        """Remove temp files a killed build left, only in the folders builds write to."""
        folders = {self.root} | {self.root / f for f in subfolders} | {(self.root / rel).parent for rel in self.entries}
        n = 0
        for folder in sorted(folders):
            with contextlib.suppress(OSError):
                for p in folder.glob(f"{TEMP_PREFIX}*"):
                    if p.is_file() and not p.is_symlink():
                        p.unlink()
                        n += 1
        return n

    def compacted(self) -> bytes:
        """The record as a finished build leaves it: what it published, then one line per file."""
        lines = [json.dumps({"format": 1, "published": sorted(self.published)}, sort_keys=True)]
        lines += [json.dumps(self.entries[rel], sort_keys=True, ensure_ascii=False) for rel in sorted(self.entries)]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def finish(self) -> list[str]:
        """After the new manifest and feed are in place: remove this guide's files that neither this build
        nor the previous one published (a reader holding the previous feed still finds its files), then
        compact the record. Returns the removed paths."""
        removed, changed = [], []
        with self._lock:
            keep = self.kept | self.published
            for rel in sorted(self.entries):
                e = self.entries[rel]
                path = self.root / rel
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    self.entries.pop(rel)
                    continue
                except OSError:
                    continue
                if rel in keep or e.get("guide") != self.guide:
                    continue
                self.entries.pop(rel)
                if not _as_recorded(path, e, st):
                    changed.append(rel)  # no longer ours: from now on a foreign file, left in place
                    continue
                try:
                    path.unlink()
                except OSError as exc:
                    raise explain_os_error(exc, path) from None
                removed.append(rel)
            if changed:
                log.warning(_("Left %d file(s) in %s that a build once recorded, because they are no longer as "
                              "it wrote them (%s): a file edited or replaced by hand is never removed."), len(changed),
                            self.root, ", ".join(changed[:5]) + (" …" if len(changed) > 5 else ""))
            _prune_folders(self.root, removed)
            self.published = set(self.kept)
            self.close()
            _replace_journal(self.file, self.compacted())
        return removed


def _as_recorded(path: Path, e: dict, st: os.stat_result) -> bool:
    """Whether the file is still the one a build wrote: a regular file of the recorded size, and its
    recorded mtime, or else (a copied or synced folder gets new mtimes) its recorded hash."""
    if not stat.S_ISREG(st.st_mode) or e.get("size") != st.st_size:
        return False
    if e.get("mtime_ns") == st.st_mtime_ns:
        return True
    try:
        return "sha256" in e and sha256_file(path) == e["sha256"]
    except OSError:
        return False


def linked_folder_error(given: Path, folder: Path) -> ConfigError:
    """Why a build does not write through a link to another folder (MP3s on another disk, phone sounds
    linked into Asterisk's folder): it records, and later removes, only the files inside its own folder.
    Through a link its files would escape that record; the next build would then remove files it had
    just written there, and the feed would name them. Refused rather than followed: the folder at the
    other end may hold other files (Asterisk's own sounds) that a build must never take for its own."""
    target = folder
    while target != given and not target.is_symlink() and target.parent != target:
        target = target.parent
    try:
        where = _(" (to {target})").format(target=os.readlink(target))
    except OSError:
        where = ""
    return ConfigError(_("Output folder {folder}: {target} is a symbolic link{where}.").format(
                           folder=given, target=target, where=where),
                       cause=_("a build keeps the files it writes, and the record of them, inside its own "
                               "folder; written through a link they would be outside it, and removed later"),
                       fix=_("remove the link, then either build straight onto the other disk with --out "
                             "(or link the whole output folder, not a folder inside it), or copy the files "
                             "there after each build, e.g. cp phone/sounds/* "
                             "/usr/share/asterisk/sounds/fr/<guide-id>/"))


def foreign_files(root: Path, entries: dict[str, dict], guide: str) -> tuple[list[str], dict[str, str]]:
    """Files no audioguide build recorded, and files recorded for another guide (path -> guide id)."""
    unknown: list[str] = []
    others: dict[str, str] = {}
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            if rel in (OWNERSHIP_NAME, LOCK_NAME) or name.startswith(TEMP_PREFIX):
                continue
            e = entries.get(rel)
            if e is None:
                unknown.append(rel)
            elif e.get("guide") != guide:
                others[rel] = str(e.get("guide"))
    return unknown, others


def _prune_folders(root: Path, removed: list[str]) -> None:
    """Remove the folders the removed files leave empty (a user's file in one keeps it)."""
    for folder in sorted({(root / rel).parent for rel in removed}, key=lambda p: -len(p.parts)):
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def _replace_journal(file: Path, data: bytes) -> None:
    """The compacted journal in place of the old one, unless it already holds those bytes."""
    try:
        if file.read_bytes() == data:
            return
    except OSError:
        pass
    tmp = None
    try:  # a fresh name (O_EXCL): a link planted at a fixed temp name would redirect the write
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{OWNERSHIP_NAME}.", dir=file.parent)
        os.fchmod(fd, 0o644)
        with open(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, file)
    except OSError as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise explain_os_error(exc, file) from None


def _journal_lines(file: Path) -> list[dict]:
    """The journal's JSON objects; a line cut short by a kill is skipped (the file it announced is swept or
    rebuilt)."""
    try:
        lines = file.read_bytes().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if isinstance(e, dict):
            out.append(e)
    return out


def _warn_ignored(file: Path, ignored: list[str]) -> None:
    log.warning(_("%s: ignored %d line(s) naming a file outside the output folder (%s). A build only ever "
                  "records files inside its folder: these lines were not written by one, and no such file "
                  "is touched."), file, len(ignored), ", ".join(ignored[:3]))
