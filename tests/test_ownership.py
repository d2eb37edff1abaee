"""A build never removes a file it did not write: each data-loss case of issue 17, reproduced, with the user's
files checked byte for byte afterwards. Fast: the silence engine and the mini guide."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.build import build
from audioguide.cli import cli
from audioguide.exceptions import PublishError
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


def _generation(out: Path, files: dict[str, bytes], guide: str = "g") -> list[str]:
    """One build, as the builder drives the record: open it, write these files, finish; the paths removed."""
    from audioguide.files import Ownership, write_bytes

    owner = Ownership(out, guide)
    with owner.active():
        for rel, data in files.items():
            write_bytes(out / rel, data)
        return owner.finish()


def test_a_copied_output_folder_still_loses_its_stale_files_and_keeps_edited_ones(tmp_path, caplog):
    """`cp -r` gives every file a new date: a stale file of the build's is known by its hash and removed;
    one edited by hand since is left, and the warning names it."""
    out = tmp_path / "out"
    _generation(out, {"audio/old.mp3": b"old chapter", "audio/edited.mp3": b"old chapter 2", "feed.xml": b"1"})
    _generation(out, {"feed.xml": b"2"})  # the old chapters stay one build, for readers of the previous feed
    for p in (out / "audio").iterdir():
        os.utime(p, ns=(10**9, 10**9))
    (out / "audio" / "edited.mp3").write_bytes(b"MY chapter 2!")  # same size, another content
    with caplog.at_level("WARNING"):
        assert _generation(out, {"feed.xml": b"3"}) == ["audio/old.mp3"]
    assert (out / "audio" / "edited.mp3").read_bytes() == b"MY chapter 2!"
    assert caplog.messages == [f"Left 1 file(s) in {out} that a build once recorded, because they are no longer as "
                               "it wrote them (audio/edited.mp3): a file edited or replaced by hand is never removed."]


def test_a_file_still_of_its_recorded_size_and_date_is_taken_for_the_one_written(tmp_path):
    """The trust rule (no file read again while its size and date are as recorded): the record's word is kept,
    so a no-change rebuild of ~1,300 files reads none of them."""
    out = tmp_path / "out"
    _generation(out, {"old.txt": b"abc", "feed.xml": b"1"})
    _generation(out, {"feed.xml": b"2"})
    st = (out / "old.txt").stat()
    (out / "old.txt").write_bytes(b"xyz")
    os.utime(out / "old.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _generation(out, {"feed.xml": b"3"}) == ["old.txt"]


def test_a_file_the_user_deleted_leaves_the_record_and_the_build_goes_on(tmp_path):
    out = tmp_path / "out"
    _generation(out, {"a.txt": b"a", "b.txt": b"b"})
    (out / "a.txt").unlink()
    assert _generation(out, {"b.txt": b"b"}) == []
    lines = (out / OWNERSHIP_NAME).read_text().splitlines()
    assert [json.loads(x).get("path") for x in lines] == [None, "b.txt"]


def test_a_file_that_cannot_be_removed_is_explained(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _generation(out, {"old.txt": b"old", "feed.xml": b"1"})
    _generation(out, {"feed.xml": b"2"})

    def refused(self, *a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "unlink", refused)
    with pytest.raises(PublishError) as exc:
        _generation(out, {})
    assert exc.value.message == (f"Cannot write {out / 'old.txt'}: permission denied or read-only folder.")
    assert (out / "old.txt").read_bytes() == b"old"


def test_a_journal_of_an_older_build_with_removed_lines_is_read(tmp_path):
    """Older builds wrote {"path", "removed": true} lines, also for a file recorded in a journal since compacted."""
    from audioguide.files import Ownership

    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / OWNERSHIP_NAME).write_text('{"path": "gone.txt", "removed": true}\n'
                                           '{"path": "a.txt", "guide": "g", "size": 1}\n')
    assert Ownership(tmp_path, "g").foreign_files() == ([], {})


def test_a_planted_line_outside_the_folder_is_ignored_with_a_warning(tmp_path, caplog):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"mine")
    out = tmp_path / "out"
    out.mkdir()
    (out / OWNERSHIP_NAME).write_text('{"path": "../victim.txt", "guide": "g", "size": 4}\n')
    with caplog.at_level("WARNING"):
        _generation(out, {"feed.xml": b"1"})
    assert caplog.messages[0] == (f"{out / OWNERSHIP_NAME}: ignored 1 line(s) naming a file outside the output folder "
                                  "('../victim.txt'). A build only ever records files inside its folder: these lines "
                                  "were not written by one, and no such file is touched.")
    assert victim.read_bytes() == b"mine"


def test_a_build_killed_just_after_a_rename_leaves_the_file_its_own(tmp_path, monkeypatch):
    """The record says a file is the build's before its name appears: killed right after the rename, the next
    build is not refused for a file it wrote itself."""
    from audioguide.files import Ownership, write_bytes

    out = tmp_path / "out"
    _generation(out, {"feed.xml": b"1"})

    def killed(self, path, sha256=None):
        raise KeyboardInterrupt  # stands for the SIGKILL: no `except Exception` runs

    with monkeypatch.context() as m:
        m.setattr(Ownership, "record", killed)
        with pytest.raises(KeyboardInterrupt), Ownership(out, "g").active():
            write_bytes(out / "audio" / "01-a.mp3", b"ID3 chapter")

    assert Ownership(out, "g").foreign_files() == ([], {})


def test_a_folder_of_the_output_linked_elsewhere_is_refused_and_explained(tmp_path):
    """phone/sounds linked into Asterisk's folder: refused before anything is written, the message naming the
    link and where it points, and the other folder untouched."""
    from audioguide.exceptions import ConfigError
    from audioguide.output import OutputFolder

    asterisk = tmp_path / "asterisk"
    asterisk.mkdir()
    (asterisk / "vm-intro.wav").write_bytes(b"RIFF Asterisk's own")
    out = tmp_path / "out"
    (out / "phone").mkdir(parents=True)
    (out / "phone" / "sounds").symlink_to(asterisk)
    with OutputFolder(out, "g") as folder, pytest.raises(ConfigError) as exc:
        folder.claim(("phone/sounds",))
    e = exc.value
    assert e.message == f"Output folder {out}: {out / 'phone' / 'sounds'} is a symbolic link (to {asterisk})."
    assert e.cause == ("a build keeps the files it writes, and the record of them, inside its own folder; written "
                       "through a link they would be outside it, and removed later")
    assert e.fix == ("remove the link, then either build straight onto the other disk with --out (or link the whole "
                     "output folder, not a folder inside it), or copy the files there after each build, e.g. "
                     "cp phone/sounds/* /usr/share/asterisk/sounds/fr/<guide-id>/")
    assert [p.name for p in asterisk.iterdir()] == ["vm-intro.wav"]


def test_a_planted_line_through_a_link_of_the_users_is_never_acted_on(tmp_path, caplog):
    """A line naming `media/../feed.xml`, where media is the user's own link beside the output: ignored, with
    the warning, and the build goes on (the link is not among the build's folders)."""
    from audioguide.output import OutputFolder

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "media").symlink_to(elsewhere)
    (out / OWNERSHIP_NAME).write_text('{"path": "media/../feed.xml", "guide": "g", "size": 1}\n')
    with caplog.at_level("WARNING"), OutputFolder(out, "g") as folder:
        folder.claim(("audio",))
        with folder.recording(("audio",)):
            folder.update("audio/01-a.mp3", b"ID3")
        assert folder.finish() == []
    assert "ignored 1 line(s)" in caplog.text and (out / "media").is_symlink()


@pytest.mark.parametrize("where", ["root", "home", "home-parent", "guide", "guide-parent", "cache", "cache-parent"])
def test_a_refused_output_folder_is_named_with_the_reason(tmp_path, monkeypatch, where):
    """What the volunteer reads when --out would mix the build's files with theirs: the folder as they typed
    it, why it is refused, and what to do."""
    from audioguide.build.folder import check_out_dir
    from audioguide.exceptions import ConfigError

    home = tmp_path / "home" / "marie"
    guide = home / "guides" / "mini" / "guide.yaml"
    cache = tmp_path / "cache" / "clips"
    for d in (guide.parent, cache):
        d.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    out, why = {"root": ("/", "it is the root of the file system"),
                "home": (str(home), "it is a home folder"),
                "home-parent": (str(home.parent), "it is a home folder"),
                "guide": (str(guide.parent), f"it holds the guide itself ({guide})"),
                "guide-parent": (str(guide.parent.parent), f"it holds the guide itself ({guide})"),
                "cache": (str(cache), f"it holds the clip cache ({cache})"),
                "cache-parent": (str(cache.parent), f"it holds the clip cache ({cache})")}[where]
    with pytest.raises(ConfigError) as exc:
        check_out_dir(Path(out), guide, cache)
    assert exc.value.message == f"Output folder {out}: refused, because {why}."
    assert exc.value.cause == ("a build writes audio/, transcripts/, phone/… there and replaces what it wrote before, "
                               "so it needs a folder of its own")
    assert exc.value.fix == "choose a new or empty folder with --out, e.g. --out output/<guide-id>"
    check_out_dir(tmp_path / "out", guide, cache)  # a folder of its own: accepted
    check_out_dir(guide.parent / "out", guide, cache)  # beside the guide, inside its folder: accepted


def test_a_folder_holding_many_foreign_files_names_five_and_counts_the_rest(tmp_path, caplog):
    from audioguide.build.folder import refuse_foreign_files
    from audioguide.exceptions import ConfigError
    from audioguide.files import Ownership

    for i in range(7):
        (tmp_path / f"mine-{i}.txt").write_text("mine")
    with pytest.raises(ConfigError) as exc:
        refuse_foreign_files(Ownership(tmp_path, "g"), False)
    assert exc.value.message == (f"Output folder {tmp_path} holds files that no audioguide build of this guide "
                                 "recorded: mine-0.txt, mine-1.txt, mine-2.txt, mine-3.txt, mine-4.txt and 2 more.")
    assert exc.value.cause == ("a build replaces and removes the files it wrote there, so it only writes into a "
                               "folder of its own")
    assert exc.value.fix == ("choose a new or empty --out folder; or, if the folder was made by an older audioguide, "
                             "delete it and build again; or pass --allow-foreign-files to build beside those files "
                             "(they are never removed, but files with the names the build writes are replaced)")
    with caplog.at_level("WARNING"):
        refuse_foreign_files(Ownership(tmp_path, "g"), True)
    assert caplog.messages == [f"Output folder {tmp_path} also holds files that no audioguide build of this guide "
                               "recorded (mine-0.txt, mine-1.txt, mine-2.txt, mine-3.txt, mine-4.txt and 2 more); "
                               "they are left in place, except where this build writes a file of the same name."]
    assert len(list(tmp_path.glob("mine-*.txt"))) == 7
    for i in (5, 6):
        (tmp_path / f"mine-{i}.txt").unlink()
    with pytest.raises(ConfigError) as exc:
        refuse_foreign_files(Ownership(tmp_path, "g"), False)
    assert exc.value.message.endswith(": mine-0.txt, mine-1.txt, mine-2.txt, mine-3.txt, mine-4.txt.")
