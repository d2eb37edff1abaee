"""A build never removes a file it did not write: each data-loss case of issue 17, reproduced, with the user's
files checked byte for byte afterwards. Fast: the silence engine and the mini guide."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.build import build
from audioguide.cli import cli
from audioguide.files import OWNERSHIP_NAME, TEMP_PREFIX

from conftest import needs_tools, settings_for

pytestmark = needs_tools

# What a user may keep in a folder: hand-made audio and notes where the build writes, and dotfiles at depth.
USER_FILES = {
    "audio/recorded-intro.mp3": b"ID3 a hand-recorded introduction",
    "transcripts/notes.txt": b"my notes",
    "chapters/draft.json": b"{}",
    "phone/sounds/my-greeting.wav": b"RIFF my greeting",
    ".env.local": b"SECRET=1",
    ".eslintrc.json": b"{}",
    ".gitlab-ci.yml": b"test: {}",
    ".git/.keep.me": b"",
    "deep/a/b/.secret.key": b"key",
    "project/.env.local": b"OTHER=2",
}


def plant(folder: Path) -> None:
    for rel, data in USER_FILES.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)


def intact(folder: Path) -> None:
    for rel, data in USER_FILES.items():
        assert (folder / rel).read_bytes() == data, rel


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(*args: str):
    res = CliRunner().invoke(cli, ["-q", "build", *args])
    assert "Traceback" not in res.output and not isinstance(res.exception, (AssertionError, TypeError, KeyError))
    return res


def build_args(guide: Path, out: str, cache: Path, *extra: str) -> list[str]:
    return [str(guide), "--out", out, "--cache", str(cache), "--engine", "silence", "--jobs", "1", *extra]


def test_out_dotdot_onto_a_users_folder_is_refused_and_loses_nothing(tmp_path, mini_guide):
    """`--out dir/sub/..` onto a folder with the user's files: refused (exit 2), every file intact."""
    folder = tmp_path / "dir"
    (folder / "sub").mkdir(parents=True)
    plant(folder)
    before = snapshot(folder)
    res = run(*build_args(mini_guide, str(folder / "sub" / ".."), tmp_path / "c"))
    assert res.exit_code == 2, res.output
    assert "holds files that no audioguide build" in res.output and "--allow-foreign-files" in res.output
    assert "audio/recorded-intro.mp3" in res.output
    assert snapshot(folder) == before


def test_allowed_foreign_files_are_never_removed(tmp_path, mini_guide):
    """With --allow-foreign-files the build writes beside the user's files, and neither a rebuild, a rebuild
    after a chapter went away, nor a killed build's temp files ever take one of them."""
    out = tmp_path / "dir"
    out.mkdir()
    plant(out)
    args = build_args(mini_guide, str(out / "sub" / ".."), tmp_path / "c", "--allow-foreign-files")
    (out / "sub").mkdir()
    assert run(*args).exit_code == 0
    intact(out)
    m = json.loads((out / "manifest.json").read_text())
    assert all((out / c["mp3"]).exists() for c in m["chapters"])
    # A killed build's temp file is swept; a user's file that merely looks like one is not.
    (out / "audio" / f"{TEMP_PREFIX}02-dmp.mp3.x1y2.mp3").write_bytes(b"half")
    (out / "audio" / ".02-dmp.mp3.x1y2.mp3").write_bytes(b"user's, named like the old temp files")
    assert run(*args).exit_code == 0
    intact(out)
    assert not (out / "audio" / f"{TEMP_PREFIX}02-dmp.mp3.x1y2.mp3").exists()
    assert (out / "audio" / ".02-dmp.mp3.x1y2.mp3").exists()

    # The dmp chapter is renamed: its old files go (after one build of grace), the user's stay.
    g = mini_guide / "guide.yaml"
    g.write_text(g.read_text().replace("id: dmp", "id: dossier"))
    assert run(*args).exit_code == 0
    assert list(out.glob("audio/02-dmp.*.mp3"))  # kept for a reader of the previous feed
    assert run(*args).exit_code == 0
    intact(out)
    assert list(out.glob("audio/02-dossier.*.mp3")) and not list(out.glob("audio/02-dmp.*.mp3"))
    assert not (out / "transcripts" / "02-dmp.vtt").exists()
    assert not (out / "phone" / "sounds" / "02-dmp-p01.wav").exists()


@pytest.mark.parametrize("where", ["empty", "home", "guide", "guide-parent", "root"])
def test_dangerous_output_folders_are_refused(tmp_path, mini_guide, monkeypatch, where):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / ".env.local").write_text("SECRET=1")
    monkeypatch.chdir(cwd)
    (mini_guide / ".guide.yaml.swp").write_bytes(b"vim swap")
    (mini_guide / "audio").mkdir()
    (mini_guide / "audio" / "recorded-intro.mp3").write_bytes(b"ID3 mine")
    out = {"empty": "", "home": str(home), "guide": str(mini_guide), "guide-parent": str(mini_guide.parent),
           "root": "/"}[where]
    before = {d: snapshot(d) for d in (home, cwd, mini_guide)}
    res = run(*build_args(mini_guide, out, tmp_path / "c"))
    assert res.exit_code == 2, res.output
    assert "Error" in res.output and "Fix:" in res.output
    assert {d: snapshot(d) for d in (home, cwd, mini_guide)} == before
    assert not Path("/audio").exists() or where != "root"


def test_another_guides_folder_needs_the_flag(tmp_path, mini_guide):
    out = tmp_path / "out"
    assert run(*build_args(mini_guide, str(out), tmp_path / "c")).exit_code == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "guide.yaml").write_text((mini_guide / "guide.yaml").read_text().replace("id: mini", "id: autre"))
    before = snapshot(out)
    res = run(*build_args(other, str(out), tmp_path / "c"))
    assert res.exit_code == 2 and "another guide (mini)" in res.output
    assert snapshot(out) == before


def test_every_written_file_is_recorded_with_its_hash(tmp_path, mini_guide):
    import hashlib

    r = build(mini_guide, settings_for(tmp_path, engine="silence", jobs=1))
    lines = [json.loads(x) for x in (r.out_dir / OWNERSHIP_NAME).read_text().splitlines()]
    entries = {e["path"]: e for e in lines if "path" in e}
    files = {p.relative_to(r.out_dir).as_posix() for p in r.out_dir.rglob("*") if p.is_file()} - {OWNERSHIP_NAME}
    assert set(entries) == files
    for rel, e in entries.items():
        p = r.out_dir / rel
        assert e["guide"] == "mini" and e["size"] == p.stat().st_size and e["mtime_ns"] == p.stat().st_mtime_ns
        assert e["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()


def test_a_users_file_at_a_stale_name_is_kept(tmp_path, mini_guide):
    """Old builds removed any file of audio/ the manifest did not list; now only recorded ones go."""
    s = settings_for(tmp_path, engine="silence", jobs=1)
    r = build(mini_guide, s)
    mine = r.out_dir / "audio" / "03-my-own-chapter.mp3"
    mine.write_bytes(b"ID3 mine")
    os.utime(mine, ns=(0, 0))
    s2 = settings_for(tmp_path, engine="silence", jobs=1, allow_foreign_files=True)
    build(mini_guide, s2)
    build(mini_guide, s2)
    assert mine.read_bytes() == b"ID3 mine"


def test_a_journal_line_cut_short_loses_no_later_record(tmp_path):
    """A kill (or a full disk) in the middle of a journal line, even inside a UTF-8 character."""
    from audioguide.files import Ownership, write_bytes

    (tmp_path / OWNERSHIP_NAME).write_bytes('{"path": "é.txt", "guide": "mi'.encode()[:-1] + "é".encode()[:1])
    with Ownership(tmp_path, "mini").active():
        write_bytes(tmp_path / "a.txt", b"hi")
    again = Ownership(tmp_path, "mini")
    assert again.ours("a.txt") and again.entries["a.txt"]["size"] == 2
    assert again.foreign_files() == ([], {})
