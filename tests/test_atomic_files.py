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


def test_a_cache_that_cannot_be_written_is_explained_with_the_way_to_move_it(tmp_path):
    """The clip cache is set by --cache, not --out: the message names the cache and how to move it."""
    p = tmp_path / "cache" / "ab.wav"
    move = "--cache DIR or AUDIOGUIDE_CACHE=DIR"
    full = explain_os_error(OSError(errno.ENOSPC, "No space left on device"), p, what="cache")
    assert full.message == f"Cannot write the clip cache {p}: the disk is full."
    assert full.cause == "no space left on the device that holds the cache"
    assert full.fix == (f"free some space there, or move the cache to a bigger disk with {move}, and build again; "
                        "finished clips were kept")
    ro = explain_os_error(OSError(errno.EROFS, "Read-only file system"), p, what="cache")
    assert ro.message == f"Cannot write the clip cache {p}: permission denied or read-only folder."
    assert ro.cause == "Read-only file system"
    assert ro.fix == f"choose a writable cache folder with {move}, or fix its permissions"
    other = explain_os_error(OSError(errno.EIO, "Input/output error"), p, what="cache")
    assert other.message == f"Cannot write the clip cache {p}: Input/output error."
    assert other.cause == "Input/output error" and other.fix == f"choose another cache folder with {move}"


def test_a_state_file_of_another_shape_is_ignored_with_a_warning_naming_it(tmp_path, caplog):
    from audioguide.files import read_state

    state = tmp_path / ".build-state.json"
    state.write_text("[1, 2]")
    with caplog.at_level("WARNING"):
        assert read_state(state) == {}
    assert caplog.messages == [f"{state} is not a build state this version wrote; it is ignored, and every output "
                               "file it describes is checked again."]


def test_a_build_record_that_is_a_link_is_refused_and_its_target_kept(tmp_path):
    """A link planted at the ownership record's name: the build refuses, says which file and why, and never
    writes through it."""
    from audioguide.files import OWNERSHIP_NAME

    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"the user's file")
    out = tmp_path / "out"
    out.mkdir()
    (out / OWNERSHIP_NAME).symlink_to(victim)
    with pytest.raises(PublishError) as exc:
        Ownership(out, "g")
    link = out / OWNERSHIP_NAME
    assert exc.value.message == f"{link} is a symbolic link (to {victim}), not the build's record of its files."
    assert exc.value.cause == ("a build writes this file itself; through the link it would overwrite the file the "
                               "link points at")
    assert exc.value.fix == f"delete the link ({link}) and build again; the build makes the file anew"
    assert victim.read_bytes() == b"the user's file"


def test_a_link_planted_at_the_record_while_a_build_runs_is_not_written_through(tmp_path):
    """The record's name turned into a link after the build checked it: its next line is refused with the
    record's name, not appended to the file the link points at."""
    from audioguide.files import OWNERSHIP_NAME, write_bytes

    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"the user's file")
    out = tmp_path / "out"
    out.mkdir()
    owner = Ownership(out, "g")
    (out / OWNERSHIP_NAME).symlink_to(victim)
    with owner.active(), pytest.raises(PublishError) as exc:
        write_bytes(out / "feed.xml", b"<rss/>")
    assert exc.value.message.startswith(f"Cannot write {out / OWNERSHIP_NAME}: ")
    assert victim.read_bytes() == b"the user's file" and not (out / "feed.xml").exists()


def test_the_hash_of_a_file_changed_since_it_was_written_is_that_of_its_bytes(tmp_path):
    """The hash a manifest states is that of the bytes on disk: the record vouches only for an unchanged file."""
    import hashlib

    from audioguide.files import digest, write_bytes

    owner = Ownership(tmp_path, "g")
    with owner.active():
        write_bytes(tmp_path / "a.mp3", b"as written")
        (tmp_path / "a.mp3").write_bytes(b"changed by hand since")
        assert digest(tmp_path / "a.mp3") == hashlib.sha256(b"changed by hand since").hexdigest()


def test_a_no_change_check_trusts_a_file_still_of_its_recorded_size_and_date(tmp_path):
    """A no-change rebuild checks ~1,300 files: one whose size and date are as recorded is taken at the record's
    word, unread (here its bytes were swapped behind the record's back, size and date kept, to show it)."""
    import hashlib

    from audioguide.files import digest, matches, write_bytes

    p = tmp_path / "audio" / "01-a.mp3"
    with Ownership(tmp_path, "g").active():
        write_bytes(p, b"ID3 as encoded")
    st = p.stat()
    p.write_bytes(b"ID3 swapped!!!")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    sha = hashlib.sha256(b"ID3 as encoded").hexdigest()
    with Ownership(tmp_path, "g").active():
        assert matches(p, sha) is True and digest(p) == sha


def test_a_copied_output_folder_is_checked_by_its_bytes_and_kept(tmp_path):
    """`cp -r` gives every file a new date: the file is read again, found as written, and stays the build's."""
    import hashlib

    from audioguide.files import matches, write_bytes

    p = tmp_path / "audio" / "01-a.mp3"
    with Ownership(tmp_path, "g").active() as owner:
        write_bytes(p, b"ID3 as encoded")
        owner.finish()
    os.utime(p, ns=(10**9, 10**9))
    sha = hashlib.sha256(b"ID3 as encoded").hexdigest()
    for _ in range(2):  # two builds: a file no longer kept would go after one build of grace
        with Ownership(tmp_path, "g").active() as owner:
            assert matches(p, sha) is True and not matches(p, "0" * 64)
            assert owner.finish() == []
    assert p.read_bytes() == b"ID3 as encoded"
