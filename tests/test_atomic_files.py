"""files.py: a reader never sees half a file, a no-change write touches nothing, and OS errors are explained."""

import errno
import os
import stat

import pytest

from audioguide.exceptions import PublishError
from audioguide.files import TEMP_PREFIX, Ownership, atomic_path, explain_os_error, update_bytes, write_text


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "a.mp3"  # the folder is made
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(f"{TEMP_PREFIX}a.mp3.") and tmp.suffix == ".mp3"
        tmp.write_bytes(b"new")
        assert not target.exists()
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o644
    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise ValueError("encoder crashed")
    assert target.read_bytes() == b"new" and os.listdir(target.parent) == ["a.mp3"]  # no temp file left


def test_temp_suffixes(tmp_path):
    with atomic_path(tmp_path / "noext") as tmp:
        assert tmp.suffix == ".tmp"
        tmp.write_bytes(b"")
    with atomic_path(tmp_path / "x.mp3", suffix=".wav") as tmp:
        assert tmp.suffix == ".wav"
        tmp.write_bytes(b"")


def test_update_bytes_writes_only_a_change(tmp_path):
    f = tmp_path / "feed.xml"
    assert update_bytes(f, b"one") is True
    os.utime(f, ns=(1, 1))
    assert update_bytes(f, b"one") is False and f.stat().st_mtime_ns == 1
    assert update_bytes(f, b"two") is True and f.read_bytes() == b"two"
    write_text(f, "été")
    assert f.read_bytes() == "été".encode()


def test_a_full_disk_or_a_read_only_folder_is_explained(tmp_path):
    p = tmp_path / "a.mp3"
    full = explain_os_error(OSError(errno.ENOSPC, "No space left on device"), p)
    assert isinstance(full, PublishError)
    assert full.message == f"Cannot write {p}: the disk is full."
    assert full.cause == "no space left on the device" and full.fix.startswith("free some space")
    for code in (errno.EACCES, errno.EPERM, errno.EROFS):
        ro = explain_os_error(OSError(code, "Read-only file system"), p)
        assert ro.message == f"Cannot write {p}: permission denied or read-only folder."
        assert ro.cause == "Read-only file system"
        assert ro.fix == "choose a writable --out folder, or fix its permissions"
    other = explain_os_error(OSError(errno.EIO, "Input/output error"), p)
    assert other.message == f"Cannot write {p}: Input/output error." and other.cause == "Input/output error"


def test_an_os_error_wrapped_by_a_library_is_explained(tmp_path):
    class MutagenError(Exception):
        pass

    with pytest.raises(PublishError) as exc:
        with atomic_path(tmp_path / "a.mp3"):
            raise MutagenError(OSError(errno.ENOSPC, "No space left on device"))
    assert exc.value.message.endswith("the disk is full.")
    assert os.listdir(tmp_path) == []
    with pytest.raises(PublishError, match="the disk is full"):  # a plain OSError too
        with atomic_path(tmp_path / "b.mp3"):
            raise OSError(errno.ENOSPC, "No space left on device")


def test_a_folder_that_cannot_be_made_is_explained(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(PublishError) as exc:
        with atomic_path(tmp_path / "file" / "a.mp3"):
            pass
    assert exc.value.message.startswith(f"Cannot write {tmp_path / 'file' / 'a.mp3'}:")


def test_sweep_removes_only_left_over_temp_files(tmp_path):
    (tmp_path / "audio").mkdir()
    left = [tmp_path / f"{TEMP_PREFIX}feed.xml.abc123.xml", tmp_path / "audio" / f"{TEMP_PREFIX}01-a.mp3.k9x.mp3"]
    kept = [tmp_path / ".build-state.json", tmp_path / ".build-phone.json", tmp_path / "feed.xml",
            tmp_path / ".hidden", tmp_path / ".notes.txt", tmp_path / "audio" / "01-a.mp3",
            tmp_path / "other" / f"{TEMP_PREFIX}x.mp3.abc.mp3"]  # not a folder builds write to
    kept[-1].parent.mkdir()
    for f in left + kept:
        f.write_bytes(b"x")
    assert Ownership(tmp_path, "g").sweep_temp_files(["audio"]) == 2
    assert not any(f.exists() for f in left) and all(f.exists() for f in kept)
    assert Ownership(tmp_path / "missing", "g").sweep_temp_files() == 0
