"""The output folder is hostile input too (issue 22): its ownership record, links planted in it, a nearly full
disk, linked subfolders and state files of the wrong shape. Real builds (silence engine, mini guide), real
links, a real small tmpfs; the user's files are checked byte for byte afterwards."""

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.files import OWNERSHIP_NAME, TEMP_PREFIX

from conftest import DATA, needs_tools, tmpfs

pytestmark = needs_tools


def run(*args: str):
    res = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in res.output and not isinstance(res.exception, (AttributeError, TypeError, KeyError,
                                                                             IsADirectoryError, AssertionError))
    return res


def build(guide: Path, out: Path, cache: Path, *extra: str):
    return run("build", str(guide), "--out", str(out), "--cache", str(cache), "--engine", "silence", "--jobs", "1",
               *extra)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-output")
    shutil.copytree(DATA / "mini", tmp / "mini")
    assert build(tmp / "mini", tmp / "out", tmp / "cache").exit_code == 0
    return tmp


@pytest.fixture
def built(first_build, tmp_path):
    """A copy of one finished build: (guide, output folder, cache)."""
    for d in ("mini", "out", "cache"):
        shutil.copytree(first_build / d, tmp_path / d, symlinks=True)
    return tmp_path / "mini", tmp_path / "out", tmp_path / "cache"


def journal_line(out: Path, entry: dict) -> None:
    with open(out / OWNERSHIP_NAME, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def recorded_as(path: Path, rel: str, **extra) -> dict:
    """A journal line that names `rel` with `path`'s true size and mtime: the worst case, a line forged to
    pass the size-and-mtime check."""
    st = path.stat()
    return {"path": rel, "guide": "mini", "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": "0" * 64, **extra}


# --- 1. the ownership record ------------------------------------------------------------------------------

def test_journal_lines_outside_the_folder_or_on_a_users_file_delete_nothing(built, tmp_path, caplog):
    guide, out, cache = built
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    absolute = tmp_path / "absolute.txt"
    absolute.write_bytes(b"also precious")
    notes = out / "my-notes.txt"
    notes.write_bytes(b"a user's notes, in --out")
    pending = out / "draft.txt"
    pending.write_bytes(b"a user's draft")
    journal_line(out, recorded_as(victim, "../victim.txt"))
    journal_line(out, recorded_as(absolute, str(absolute)))
    journal_line(out, {"path": "audio/../../victim.txt", "guide": "mini", "pending": True})
    # Inside the folder, but not the file a build wrote: another size, or a pending line without one.
    journal_line(out, {"path": "my-notes.txt", "guide": "mini", "size": 3, "mtime_ns": 1, "sha256": "0" * 64})
    journal_line(out, {"path": "draft.txt", "guide": "mini", "pending": True})

    res = build(guide, out, cache)
    assert victim.read_bytes() == b"precious" and absolute.read_bytes() == b"also precious"
    assert notes.read_bytes() == b"a user's notes, in --out" and pending.read_bytes() == b"a user's draft"
    assert res.exit_code == 0, res.output
    assert "ignored 3 line(s) naming a file outside the output folder" in caplog.text
    assert "Left 2 file(s)" in caplog.text and "my-notes.txt" in caplog.text
    compacted = (out / OWNERSHIP_NAME).read_text()
    assert "victim" not in compacted and "my-notes" not in compacted

    # They are the user's now: the next build asks before sharing the folder with them, and still succeeds.
    res = build(guide, out, cache)
    assert res.exit_code == 2 and "my-notes.txt" in res.output
    assert build(guide, out, cache, "--allow-foreign-files").exit_code == 0
    assert notes.read_bytes() == b"a user's notes, in --out"


def test_a_journal_line_naming_a_directory_does_not_fail_every_build(built):
    guide, out, cache = built
    journal_line(out, {"path": "audio", "guide": "mini", "pending": True})
    journal_line(out, recorded_as(out / "phone", "phone"))
    for _ in range(2):
        res = build(guide, out, cache)
        assert res.exit_code == 0, res.output
    assert any((out / "audio").glob("*.mp3")) and any((out / "phone" / "sounds").iterdir())
    assert '"path": "audio"' not in (out / OWNERSHIP_NAME).read_text()


def test_a_copied_folder_still_removes_its_own_old_files(built, tmp_path):
    """Copying a folder gives its files new mtimes: a file no longer published is still recognised as the
    build's own by its recorded hash, and removed, so the folder ends as a clean build's."""
    guide, out, cache = built
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, copy_function=shutil.copy)  # contents only: new mtimes
    text = (guide / "guide.yaml").read_text()
    assert "Le DMP" in text
    (guide / "guide.yaml").write_text(text.replace("Le DMP", "Le dossier médical"))
    assert build(guide, copy, cache).exit_code == 0
    assert build(guide, copy, cache).exit_code == 0  # the files the last build still named go now
    assert build(guide, tmp_path / "clean", cache).exit_code == 0
    assert sorted(os.listdir(copy / "audio")) == sorted(os.listdir(tmp_path / "clean" / "audio"))
    assert sorted(os.listdir(copy / "audio")) != sorted(os.listdir(out / "audio"))


# --- 2. links planted in the folder -------------------------------------------------------------------

def test_a_linked_lock_file_is_refused_and_its_target_kept(built, tmp_path):
    guide, out, cache = built
    target = tmp_path / "bashrc"
    target.write_bytes(b"export PATH=precious\n")
    (out / ".lock").symlink_to(target)
    res = build(guide, out, cache)  # would say "Nothing changed"
    assert target.read_bytes() == b"export PATH=precious\n"
    assert res.exit_code != 0 and "symbolic link" in res.output and ".lock" in res.output


def test_a_linked_journal_is_refused_and_its_target_kept(tmp_path):
    target = tmp_path / "journal-elsewhere.txt"
    target.write_bytes(b"not a journal\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / OWNERSHIP_NAME).symlink_to(target)
    res = build(DATA / "mini", out, tmp_path / "cache")
    assert target.read_bytes() == b"not a journal\n"
    assert res.exit_code != 0 and "symbolic link" in res.output and OWNERSHIP_NAME in res.output


def test_a_link_at_the_journals_temp_name_redirects_nothing(built, tmp_path):
    guide, out, cache = built
    target = tmp_path / "victim"
    target.write_bytes(b"precious")
    (out / f"{TEMP_PREFIX}{OWNERSHIP_NAME}").symlink_to(target)
    (out / "transcript.txt").write_bytes(b"changed")  # not "Nothing changed": the record is compacted again
    assert build(guide, out, cache).exit_code == 0
    assert target.read_bytes() == b"precious"


def test_import_and_convert_write_no_file_through_a_link(tmp_path):
    victims = {}
    for name in ("report", "tmp", "convert-tmp", "convert-dst"):
        victims[name] = tmp_path / f"victim-{name}"
        victims[name].write_bytes(b"precious")
    src = tmp_path / "page.html"
    src.write_text("<html><head><title>Guide</title></head><body><h1>Le guide</h1><h2>Un sujet</h2>"
                   "<p>Un paragraphe du sujet.</p><h2>Un autre</h2><p>Encore du texte.</p></body></html>")
    out = tmp_path / "draft"
    out.mkdir()
    (out / "import-report.txt").symlink_to(victims["report"])
    (out / ".guide.md.tmp").symlink_to(victims["tmp"])
    res = run("import", str(src), "--out", str(out))
    assert victims["report"].read_bytes() == b"precious" and victims["tmp"].read_bytes() == b"precious"
    assert res.exit_code == 0, res.output
    assert (out / "guide.md").is_file() and not (out / "import-report.txt").is_symlink()
    assert "Un paragraphe du sujet." in (out / "guide.md").read_text()

    conv = tmp_path / "conv"
    conv.mkdir()
    (conv / ".guide.md.tmp").symlink_to(victims["convert-tmp"])
    res = run("convert", str(DATA / "mini" / "guide.yaml"), str(conv / "guide.md"))
    assert res.exit_code == 0, res.output
    assert all(v.read_bytes() == b"precious" for v in victims.values())


# --- 3. a nearly full disk ------------------------------------------------------------------------------

def _fill(disk: Path, free: int) -> None:
    st = os.statvfs(disk)
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - free))


def test_a_nearly_full_disk_never_publishes_a_cut_phone_sound(tmp_path):
    """Swept over the free space left for one prompt's five sounds, so that the disk fills while ffmpeg
    writes them, at their trailer included: every sound is then either the old one or whole, the build says
    the disk is full, and with space back the next build makes the folder what a clean build makes."""
    shutil.copytree(DATA / "mini", tmp_path / "mini")
    guide, cache = tmp_path / "mini", tmp_path / "cache"
    with tmpfs(tmp_path / "disk", "24m") as disk:
        out = disk / "out"
        assert build(guide, out, cache).exit_code == 0
        sounds = out / "phone" / "sounds"
        reference = snapshot(sounds)
        names = sorted(n for n in reference if n.startswith("invalid."))
        assert len(names) == 5
        needed = sum(len(reference[n]) for n in names)
        outcomes = []
        for free in range(0, needed + 48 * 1024, 8 * 1024):
            stale = {n: reference[n][:-1] + bytes([reference[n][-1] ^ 0xFF]) for n in names}
            for n in names:  # stale sounds of the same size: as after a change of the prompt's text
                (sounds / n).write_bytes(stale[n])
            _fill(disk, free)
            try:
                res = build(guide, out, cache)
            finally:
                (disk / "filler").unlink()
            now = snapshot(sounds)
            for n in names:
                assert now[n] in (reference[n], stale[n]), f"{n} cut with {free} bytes free: {len(now[n])} bytes"
            if res.exit_code == 0:
                assert all(now[n] == reference[n] for n in names), free
            else:
                assert "the disk is full" in res.output, res.output
            outcomes.append(res.exit_code)
        assert 0 in outcomes and any(outcomes), outcomes  # the sweep crossed the point where it fits
        assert build(guide, out, cache).exit_code == 0
        assert snapshot(sounds) == reference


# --- 4. linked subfolders -------------------------------------------------------------------------------

@pytest.mark.parametrize("sub", ["audio", "phone/sounds"])
def test_a_linked_subfolder_is_refused_and_keeps_its_files(built, tmp_path, sub):
    """MP3s moved to another disk, or sounds linked into Asterisk's folder: the build refuses, says how to
    publish there instead, and the files at the other end are all kept."""
    guide, out, cache = built
    elsewhere = tmp_path / "other-disk"
    shutil.move(out / sub, elsewhere)
    (out / sub).symlink_to(elsewhere)
    (elsewhere / "asterisk-own.sln").write_bytes(b"a sound of the server's own")
    before = snapshot(elsewhere)
    results = []
    for _ in range(2):  # the second build removed what the first wrote through the link
        (out / "transcript.txt").write_bytes(b"changed")
        results.append(build(guide, out, cache))
    assert snapshot(elsewhere) == before
    res = results[0]
    assert res.exit_code == 2 and "symbolic link" in res.output and "--out" in res.output, res.output
    res = build(guide, out, cache, "--clean")
    assert res.exit_code == 2 and snapshot(elsewhere) == before


def test_a_journal_line_through_a_link_is_refused_and_the_file_kept(built, tmp_path):
    guide, out, cache = built
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.txt").write_bytes(b"behind a link")
    (out / "linked").symlink_to(elsewhere)
    journal_line(out, recorded_as(elsewhere / "x.txt", "linked/x.txt"))
    res = build(guide, out, cache)
    assert (elsewhere / "x.txt").read_bytes() == b"behind a link"
    assert res.exit_code != 0 and "linked is a symbolic link" in res.output, res.output


def test_a_link_made_before_the_first_build_is_refused(tmp_path):
    elsewhere = tmp_path / "other-disk"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "audio").symlink_to(elsewhere)
    res = build(DATA / "mini", out, tmp_path / "cache")
    assert res.exit_code != 0 and "symbolic link" in res.output
    assert not any(elsewhere.iterdir())


def test_a_linked_output_folder_itself_is_fine(tmp_path):
    """What the refusal advises: link the whole output folder (or build onto the other disk) instead."""
    disk = tmp_path / "other-disk"
    disk.mkdir()
    (tmp_path / "out").symlink_to(disk)
    for _ in range(2):
        res = run("-v", "build", str(DATA / "mini"), "--out", str(tmp_path / "out"), "--cache",
                  str(tmp_path / "cache"), "--engine", "silence", "--jobs", "1")
        assert res.exit_code == 0, res.output
    assert "0 files encoded" in res.output and any((disk / "audio").glob("*.mp3"))


def test_the_early_stop_checks_every_file_the_manifest_names(built):
    """A file the manifest names but the record does not hold (as one written through a link was): not
    "Nothing changed", and the build writes it again."""
    guide, out, cache = built
    manifest = json.loads((out / "manifest.json").read_text())
    mp3 = manifest["chapters"][0]["mp3"]
    (out / mp3).unlink()
    lines = (out / OWNERSHIP_NAME).read_text().splitlines()
    head = json.loads(lines[0])
    head["published"].remove(mp3)
    kept = [json.dumps(head, sort_keys=True)] + [line for line in lines[1:] if json.loads(line)["path"] != mp3]
    (out / OWNERSHIP_NAME).write_text("\n".join(kept) + "\n")
    res = run("-v", "build", str(guide), "--out", str(out), "--cache", str(cache), "--engine", "silence",
              "--jobs", "1")
    assert res.exit_code == 0 and "1 files encoded" in res.output, res.output  # not "Nothing changed"
    assert (out / mp3).is_file()


# --- 5. state files of the wrong shape, and the encoders' versions -----------------------------------------

@pytest.mark.parametrize("rel, text", [
    (".build-state.json", "[1]"),
    (".build-state.json", '{"chapters": [1], "whole": 3}'),
    (".build-state.json", '{"chapters": {"introduction": {"mp3": 1}}}'),
    ("phone/.build-phone.json", "[1]"),
])
def test_a_state_file_of_the_wrong_shape_is_ignored_with_a_warning(built, rel, text, caplog):
    guide, out, cache = built
    reference = snapshot(out / "audio")
    (out / rel).write_text(text)
    res = build(guide, out, cache)
    assert res.exit_code == 0, res.output
    assert "is ignored" in caplog.text and rel.split("/")[-1] in caplog.text
    assert snapshot(out / "audio") == reference
    assert json.loads((out / rel).read_text()) != json.loads(text)
    assert "is ignored" not in (out / ".build-state.json").read_text()  # an incident, not replayed by later builds


@pytest.mark.parametrize("text", ["[1]", '{"format": 2, "nodes": 1}', '{"format": 2}'])
def test_a_phone_menu_of_the_wrong_shape_is_explained(built, text):
    _, out, _ = built
    (out / "phone" / "menu.json").write_text(text)
    res = run("phone", str(out), "--keys", "1", "--mute")
    assert res.exit_code != 0 and "is not a phone menu this version can read" in res.output


def test_another_ffmpeg_makes_the_audio_again(built, tmp_path, monkeypatch):
    """The early stop's key and the MP3s' keys hold the ffmpeg (and LAME) versions: after an upgrade the
    build does not say "Nothing changed" and keeps no MP3 of the old encoder. The upgrade is the real ffmpeg
    behind a wrapper that announces another version."""
    guide, out, cache = built
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = shutil.which("ffmpeg")
    wrapper = bin_dir / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\necho "ffmpeg version 99.0-upgraded" >&2\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    res = run("-v", "build", str(guide), "--out", str(out), "--cache", str(cache), "--engine", "silence",
              "--jobs", "1")
    assert res.exit_code == 0, res.output
    assert "3 files encoded" in res.output, res.output  # not "Nothing changed"
