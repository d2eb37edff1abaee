"""Faults are survived: crashing or missing tools, full and read-only disks, SIGKILL at any moment."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from audioguide.build import build
from audioguide.cli import cli
from audioguide.exceptions import AudioError, EngineError
from conftest import DATA, needs_tools, settings_for

pytestmark = needs_tools


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_half_files(out: Path) -> None:
    """No temp file is left, and every MP3 present is whole."""
    leftovers = [p.name for p in out.rglob(".*") if p.is_file() and not p.name.startswith(".build")]
    assert leftovers == []
    for mp3 in out.rglob("*.mp3"):
        assert MP3(mp3).info.length > 1, mp3


def wrapper(bin_dir: Path, tool: str, crash_if: str) -> None:
    """Put a `tool` on PATH that crashes when its input or arguments contain `crash_if`, else runs the real one."""
    real = shutil.which(tool)
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / tool
    script.write_text(f"""#!/bin/sh
if [ "$1" = "--version" ] || [ "$1" = "--voices=fr" ]; then exec {real} "$@"; fi
case "$*" in *{crash_if}*) echo "{tool}: simulated crash" >&2; exit 139;; esac
if [ "{tool}" = "espeak-ng" ]; then
  input=$(cat)
  case "$input" in *{crash_if}*) echo "espeak-ng: simulated crash" >&2; exit 139;; esac
  printf '%s' "$input" | exec {real} "$@"
fi
exec {real} "$@"
""")
    script.chmod(0o755)


@pytest.fixture
def crashing(tmp_path, monkeypatch):
    """crashing(tool, marker): until the test ends, `tool` crashes whenever `marker` is in its input."""
    def arm(tool: str, marker: str) -> None:
        wrapper(tmp_path / "bin", tool, marker)
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return arm


def test_engine_crash_names_the_page_and_keeps_finished_clips(tmp_path, mini_guide, crashing):
    g = mini_guide / "guide.yaml"
    g.write_text(g.read_text().replace("Appelez le 15 en cas d'urgence.", "Appelez le 15 zorglub."))
    crashing("espeak-ng", "zorglub")
    s = settings_for(tmp_path, jobs=1)
    with pytest.raises(EngineError) as e:
        build(mini_guide, s)
    assert "dmp/attention" in str(e.value) and "espeak-ng failed" in str(e.value)
    assert not (s.out_dir / "manifest.json").exists()
    kept = {p: p.stat().st_mtime_ns for p in (s.cache_dir / "clips").rglob("*.wav")}
    assert len(kept) >= 3  # the pages before the crash
    g.write_text(g.read_text().replace("zorglub", "en cas d'urgence"))
    (tmp_path / "bin" / "espeak-ng").unlink()
    again = build(mini_guide, settings_for(tmp_path, jobs=1))
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # kept, and not made again
    assert 0 < again.synthesized < len(kept)


def test_ffmpeg_crash_names_the_chapter_and_publishes_nothing(tmp_path, mini_guide, crashing):
    crashing("ffmpeg", "02-dmp")
    s = settings_for(tmp_path, jobs=1)
    with pytest.raises(AudioError) as e:
        build(mini_guide, s)
    assert "Chapter dmp (audio/02-dmp.mp3)" in str(e.value) and "Fix:" in str(e.value)
    assert not (s.out_dir / "manifest.json").exists() and not (s.out_dir / "feed.xml").exists()
    no_half_files(s.out_dir)


def test_missing_tools_are_named_with_the_install_command(tmp_path, mini_guide, monkeypatch):
    only = tmp_path / "only-espeak"
    only.mkdir()
    (only / "espeak-ng").symlink_to(shutil.which("espeak-ng"))
    monkeypatch.setenv("PATH", str(only))
    res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(tmp_path / "o"), "--cache",
                                   str(tmp_path / "c")])
    assert res.exit_code == 4 and "ffmpeg not found" in res.output and "apt-get install ffmpeg" in res.output
    assert "Traceback" not in res.output
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing at all
    res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(tmp_path / "o"), "--cache",
                                   str(tmp_path / "c")])
    assert res.exit_code == 3 and "espeak-ng" in res.output and "apt-get install espeak-ng" in res.output


# --- disks -------------------------------------------------------------------------------------------

@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                      capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_disk_full_is_explained_and_leaves_no_half_file(tmp_path, mini_guide):
    with tmpfs(tmp_path / "small", "1m") as disk:
        out = disk / "out"
        res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(out), "--cache", str(tmp_path / "c")])
        assert res.exit_code == 5, res.output
        assert "disk is full" in res.output and "Fix:" in res.output and "Traceback" not in res.output
        assert not (out / "manifest.json").exists() and not (out / "feed.xml").exists()
        no_half_files(out)
        assert not (out / ".lock").exists()


def test_read_only_output_is_explained_and_left_untouched(tmp_path, mini_guide):
    with tmpfs(tmp_path / "ro", "64m") as disk:
        out = disk / "out"
        build(mini_guide, settings_for(tmp_path, out_dir=out))
        before = tree(out)
        g = mini_guide / "guide.yaml"
        g.write_text(g.read_text().replace("Il dure moins d'une minute.", "Il est court."))
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(out), "--cache", str(tmp_path / "cache")])
        assert res.exit_code == 5, res.output
        assert "read-only" in res.output and "writable --out" in res.output and "Traceback" not in res.output
        assert tree(out) == before


def test_unwritable_cache_is_explained(tmp_path, mini_guide):
    with tmpfs(tmp_path / "ro-cache", "1m") as disk:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(tmp_path / "o"), "--cache",
                                       str(disk / "cache")])
        assert res.exit_code == 5 and "read-only" in res.output and "Traceback" not in res.output


# --- SIGKILL at any moment ---------------------------------------------------------------------------

def _cmd(guide: Path, out: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "audioguide", "-q", "build", str(guide), "--out", str(out), "--cache", str(cache),
            "--jobs", "2"]


def test_killed_builds_resume_to_the_same_bytes(tmp_path):
    """Ten builds killed with SIGKILL at moments spread over a whole build, each then run again to the end:
    the folder matches a clean build's byte for byte, and nothing in it was ever half-written."""
    guide = DATA / "mini"
    t0 = time.monotonic()
    subprocess.run(_cmd(guide, tmp_path / "clean", tmp_path / "clean-cache"), check=True, capture_output=True)
    total = time.monotonic() - t0
    reference = tree(tmp_path / "clean")
    assert "manifest.json" in reference and "phone/menu.json" in reference
    moments = [total * (i + 0.5) / 10 for i in range(10)]
    killed = 0
    for i, moment in enumerate(moments):
        out, cache = tmp_path / f"out{i}", tmp_path / f"cache{i}"
        proc = subprocess.Popen(_cmd(guide, out, cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(moment)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        if (out / "manifest.json").exists():
            # A reader may look at any moment: whatever the manifest names is already complete.
            import json

            m = json.loads((out / "manifest.json").read_text())
            for c in m["chapters"]:
                assert (out / c["mp3"]).stat().st_size == c["bytes"]
        subprocess.run(_cmd(guide, out, cache), check=True, capture_output=True)
        assert tree(out) == reference, f"kill at {moment:.2f}s"
    assert killed >= 8  # the moments really fell inside the builds


# --- one build per output folder ---------------------------------------------------------------------

def test_a_running_build_holds_the_folder(tmp_path, mini_guide):
    import socket

    out = tmp_path / "out"
    out.mkdir()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (out / ".lock").write_text(f"{sleeper.pid} {socket.gethostname()}\n")
        res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(out), "--cache", str(tmp_path / "c")])
        assert res.exit_code == 6 and f"Another build (process {sleeper.pid})" in res.output
        assert "another --out" in res.output and "Traceback" not in res.output
        assert (out / ".lock").exists() and not (out / "manifest.json").exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_stale_lock_is_taken_over(tmp_path, mini_guide, caplog):
    import socket

    dead = subprocess.Popen(["true"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text(f"{dead.pid} {socket.gethostname()}\n")
    result = build(mini_guide, settings_for(tmp_path, out_dir=out, engine="silence"))
    assert (result.out_dir / "manifest.json").exists() and not (out / ".lock").exists()
    assert "stale lock" in caplog.text
