"""Content-addressed clip cache: same engine, voice, settings and text -> same clip, never synthesised twice.

A clip is kept only when it is whole, and trusted only while it is as it was written: beside each clip
`<key>.wav`, `<key>.json` records its size, mtime and sha256 at write time. A clip is checked when it is used
(a WAV header of the clips' format, an audio length that matches the file, more than a blip of audio) and
hashed again whenever its size or mtime moved; a clip that fails is made again, with a warning.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import struct
import tempfile
import threading
from pathlib import Path

from audioguide.exceptions import EngineError
from audioguide.files import explain_os_error, nearly_full, sha256_file
from audioguide.i18n import _
from audioguide.tts.base import RATE, Engine, Speaks

log = logging.getLogger(__name__)
MIN_SECONDS = 0.005
"""Less audio than this is a broken clip. espeak-ng gives 10 ms of silence for a lone "." (older builds accepted
it); a clip cut down to its header has none."""
"""A damaged clip on a disk with less free space than this was cut short by the full disk."""


def clip_key(engine: Engine, text: str) -> str:
    blob = json.dumps({"id": engine.identity(), "text": text}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def clip_problem(path: Path) -> str | None:
    """What is wrong with the WAV clip at `path`, in a few words, or None if it is a whole clip in the engines'
    common format. Reads the header only."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return f"not a WAV file ({size} bytes)"
    if struct.unpack_from("<I", head, 4)[0] + 8 != size:
        return f"cut short or padded: its header gives {struct.unpack_from('<I', head, 4)[0] + 8} bytes, " \
               f"the file has {size}"
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        cid, length = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if cid == b"fmt " and length >= 16 and pos + 24 <= len(head):
            tag, channels, rate = struct.unpack_from("<HHI", head, pos + 8)
            fmt = (tag, channels, rate, struct.unpack_from("<H", head, pos + 22)[0])
        elif cid == b"data":
            if fmt != (1, 1, RATE, 16):
                return f"not mono 16-bit {RATE} Hz PCM (format {fmt})"
            if pos + 8 + length != size:
                return f"cut short: its header gives {length} bytes of audio, the file holds {size - pos - 8}"
            if length < 2 * RATE * MIN_SECONDS:
                return f"almost no audio ({length // 2} samples)"
            return None
        pos += 8 + length + (length & 1)
    return "no audio chunk in its header"


class ClipCache:
    def __init__(self, root: Path, *, ignore_existing: bool = False):
        self.folder = Path(root)
        self.root = self.folder / "clips"
        self.ignore_existing = ignore_existing
        self._fresh: set[str] = set()
        self._reported: set[str] = set()
        self._making: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def _record(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def has(self, key: str) -> bool:
        """True if the clip is there and whole; a damaged one is reported once, and make() replaces it."""
        if self.ignore_existing and key not in self._fresh:
            return False
        clip = self.path(key)
        if not clip.exists():
            return False
        problem = self.problem(key)
        if problem is None:
            return True
        if key in self._reported:  # build.synthesize() asks, then make() asks again: say it once
            return False
        self._reported.add(key)
        if not self._record(key).exists():
            # Made by a version that kept no record, perhaps cut short by a full disk with a header to match:
            # not trusted, and too common after an upgrade to warn about each one.
            log.debug("Cached clip %s has no record: making it again.", clip)
        else:
            log.warning(_("Cached clip %s is damaged (%s): making it again."), clip, problem)
        # Left in place until make() replaces it atomically: a build sharing the cache never finds it missing.
        return False

    def problem(self, key: str) -> str | None:
        clip = self.path(key)
        try:
            record = json.loads(self._record(key).read_text("utf-8"))
            size, mtime_ns, digest = int(record["size"]), int(record["mtime_ns"]), str(record["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            return "no record of it being written whole"
        problem = clip_problem(clip)
        if problem:
            return problem
        st = clip.stat()
        if st.st_size != size:
            return f"{st.st_size} bytes, {size} when it was written"
        # Unchanged size and mtime since the hash was taken: trust it (as make and rsync do), so a rebuild
        # with nothing to do does not read every clip; anything else is hashed again.
        if st.st_mtime_ns != mtime_ns and sha256_file(clip) != digest:
            return "its content changed since it was written"
        return None

    def make(self, engine: Speaks, text: str, key: str | None = None) -> Path:
        """Synthesise into the cache unless a whole clip is already there. A clip is renamed into place only
        once it is checked and recorded, so a crash, a kill or a full disk never leaves a bad clip behind."""
        if not key:
            assert isinstance(engine, Engine)  # a clip made elsewhere (put) always comes with its key
            key = clip_key(engine, text)
        with self._guard:
            making = self._making.setdefault(key, threading.Lock())
        with making:  # two workers asking for the same prompt make it once
            return self._make(engine, text, key)

    def put(self, key: str, data: bytes) -> Path:
        """Keep a clip made elsewhere (a cluster worker), with the same checks and atomic rename as make()."""
        return self.make(_Given(data), "", key)

    def _make(self, engine: Speaks, text: str, key: str) -> Path:
        dest = self.path(key)
        if self.has(key):
            return dest
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{key}.", suffix=".wav", dir=dest.parent)
            os.close(fd)
        except OSError as exc:
            raise explain_os_error(exc, self.folder, what="cache") from exc
        tmp = Path(name)
        try:
            engine.speak(text, tmp)
            problem = clip_problem(tmp)
            if problem:
                if self._disk_full(tmp):
                    raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
                raise EngineError(_("The {name} engine returned a damaged clip ({problem}).").format(
                                      name=engine.name, problem=problem),
                                  cause=_("the engine failed on this text without saying so"),
                                  fix=_("build again; if it happens again, rephrase that text"))
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            st = tmp.stat()  # a rename keeps the mtime: the record matches the clip once in place
            record = {"sha256": sha256_file(tmp), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            self._write_record(key, record)
            os.replace(tmp, dest)
            (dest.parent / f"{key}.words.json").unlink(missing_ok=True)  # timed on the clip it replaces
        except OSError as exc:
            raise explain_os_error(exc, self.folder, what="cache") from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._fresh.add(key)
        return dest

    def words(self, engine: Engine, text: str, key: str) -> list[list[float]]:
        """Where each word of the clip `key` starts: [offset in `text`, seconds into the clip], as the engine
        times it (Engine.word_starts), kept beside the clip as `<key>.words.json`. Made with the clip (make()
        first), and only for clips that hold more than one caption."""
        path = self.root / key[:2] / f"{key}.words.json"
        try:
            words = json.loads(path.read_text("utf-8"))
            if isinstance(words, list) and all(isinstance(w, list) and len(w) == 2 for w in words):
                return words
        except (OSError, ValueError):
            pass  # none yet, or damaged: timed again
        words = [[pos, round(t, 6)] for pos, t in engine.word_starts(text, self.make(engine, text, key))]
        try:
            self._write_record(key, words, path)
        except OSError as exc:
            raise explain_os_error(exc, self.folder, what="cache") from exc
        return words

    def _write_record(self, key: str, record, path: Path | None = None) -> None:
        path = path or self._record(key)
        fd, name = tempfile.mkstemp(prefix=f".{key}.", suffix=".json", dir=path.parent)
        try:
            # Not fsynced (the clip is): a record lost or garbled by a power cut only makes its clip be made again,
            # and an fsync per record cost a second fsync per clip, ~4 ms each on the shared machine.
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, sort_keys=True)
            os.chmod(name, 0o644)
            os.replace(name, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)

    @staticmethod
    def _disk_full(path: Path) -> bool:
        return nearly_full(path.parent)


class _Given:
    """Stands for the engine when a clip's bytes were made elsewhere: make() checks and keeps them as its own."""

    name = "remote"

    def __init__(self, data: bytes):
        self.data = data

    def speak(self, text: str, wav: Path) -> None:
        wav.write_bytes(self.data)
