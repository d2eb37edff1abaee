"""Faults are survived: crashing or missing tools, full and read-only disks, SIGKILL at any moment."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from lxml import etree
from mutagen.mp3 import MP3

from audioguide.build import build
from audioguide.cli import cli
from audioguide.exceptions import AudioError, EngineError
from audioguide.files import OWNERSHIP_NAME, TEMP_PREFIX

from conftest import needs_tools, settings_for, tmpfs
from stepped_build import Stepped

pytestmark = needs_tools


def tree(folder: Path) -> dict[str, bytes]:
    """Every output file's bytes. The ownership record is left out: it holds the files' mtimes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != OWNERSHIP_NAME}


def no_half_files(out: Path) -> None:
    """No temp file is left, and every MP3 present is whole."""
    leftovers = [p.name for p in out.rglob(f"{TEMP_PREFIX}*")]
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
    # Raised from the original error, which is left as it was: not edited in place.
    cause = e.value.__cause__
    assert isinstance(cause, AudioError) and "Chapter dmp" not in cause.message and cause.fix == e.value.fix
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


# --- what a reader sees: the feed and the manifest always name the bytes they describe ------------------

def published_problems(out: Path, read=None) -> list[str]:
    """Every MP3 the manifest or the feed names, against what they state (manifest: bytes and sha256; feed:
    enclosure length). `read(rel)` gives a file's bytes or None when missing; by default from disk."""
    read = read or (lambda rel: (out / rel).read_bytes() if (out / rel).is_file() else None)
    problems = []
    manifest = read("manifest.json")
    if manifest is not None:
        m = json.loads(manifest)
        for item in m["chapters"] + [m["whole"]]:
            data = read(item["mp3"])
            if data is None:
                problems.append(f"manifest names {item['mp3']}, which is missing")
            elif len(data) != item["bytes"] or hashlib.sha256(data).hexdigest() != item["sha256"]:
                problems.append(f"manifest: {item['mp3']} holds other bytes than it states")
    feed = read("feed.xml")
    if feed is not None:
        doc = etree.fromstring(feed)
        base = doc.find(".//{http://www.w3.org/2005/Atom}link").get("href").rsplit("/", 1)[0] + "/"
        for enc in doc.iter("enclosure"):
            rel = urlsplit(enc.get("url")).path[len(urlsplit(base).path):]
            data = read(rel)
            if data is None or len(data) != int(enc.get("length")):
                problems.append(f"feed: enclosure {rel} is {'missing' if data is None else 'of another length'}")
    return problems


def edited(guide: Path, where: Path) -> Path:
    """A copy of the guide with one sentence changed (the introduction, its phone page and the whole file)."""
    where.mkdir(parents=True)
    (where / "guide.yaml").write_text((guide / "guide.yaml").read_text()
                                      .replace("Il dure moins d'une minute.", "Il est très court, et il se lit vite."))
    return where


# --- SIGKILL at any moment ---------------------------------------------------------------------------

def _cmd(guide: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "audioguide", "-q", "build", str(guide), "--out", str(out), "--cache", str(cache),
            "--jobs", "2", "--engine", "silence", *extra]


def test_killed_builds_resume_to_the_same_bytes(tmp_path, mini_guide):
    """Backs the README's "byte-identical after a kill" and "never a feed pointing at a file that is not
    there". Over a published build A, builds of an edit B are killed with SIGKILL at points spread over a whole
    build: before its Nth change to its files, as the build reports it (stepped_build.py), whatever the load.
    Before each change and after each kill, the feed and manifest name files that are there with the size and
    sha256 they state.
    The next run leaves every file as a clean build of B does, phone bundle included, plus only A's MP3s (kept
    one build for readers of A's feed); one more run removes those, and the folder is the clean build's."""
    guide_b = edited(mini_guide, tmp_path / "b" / "mini")
    build(mini_guide, settings_for(tmp_path / "a", engine="silence", jobs=2))
    published_a = tmp_path / "a" / "out"
    tree_a = tree(published_a)
    subprocess.run(_cmd(guide_b, tmp_path / "clean", tmp_path / "clean-cache"), check=True, capture_output=True)
    reference = tree(tmp_path / "clean")
    assert "manifest.json" in reference and "phone/menu.json" in reference
    assert sum(1 for rel in reference if rel.startswith("phone/sounds/")) >= 50

    def over_a(i: int) -> tuple[Path, list[str]]:
        out = tmp_path / f"out{i}"
        shutil.copytree(published_a, out)  # copy2 keeps mtimes, as a real folder would have them
        return out, _cmd(guide_b, out, tmp_path / f"cache{i}")

    # A reader looks at the folder before every change the build makes to it.
    out, cmd = over_a(99)
    run, total = Stepped(cmd[3:]), 0
    for step in run.steps():
        assert published_problems(out) == [], f"before {step}"
        total += 1
    assert run.close() == 0 and published_problems(out) == []
    assert total >= 100, total  # the phone sounds alone are over 50 files

    kills = [total * (2 * i + 1) // 16 + 1 for i in range(8)]
    for i, kill_at in enumerate(kills):
        out, cmd = over_a(i)
        run = Stepped(cmd[3:])
        for n, _step in enumerate(run.steps(), 1):
            if n == kill_at:
                run.kill()  # it is waiting to make change n: certainly inside the build
                break
        else:
            pytest.fail(f"the build ended after {n} changes, before change {kill_at}")
        assert published_problems(out) == [], f"killed before {step}"
        subprocess.run(cmd, check=True, capture_output=True)
        assert published_problems(out) == []
        got = tree(out)
        assert {rel: got.get(rel) for rel in reference} == reference, f"killed before {step}"
        extra = set(got) - set(reference)
        assert all(rel.endswith(".mp3") and got[rel] == tree_a[rel] for rel in extra), extra
        subprocess.run(cmd, check=True, capture_output=True)
        assert tree(out) == reference, f"killed before {step}"
        no_half_files(out)


def test_damaged_phone_and_audio_files_are_repaired(tmp_path, mini_guide):
    """Phone sounds were "fresh" when they merely existed: a 0-byte .wav or a garbage .ulaw stayed forever."""
    r = build(mini_guide, settings_for(tmp_path, engine="silence", jobs=1))
    out = r.out_dir
    reference = tree(out)
    sounds = out / "phone" / "sounds"
    (sounds / "02-dmp-p01.wav").write_bytes(b"")
    ulaw = sounds / "welcome.ulaw"
    ulaw.write_bytes(os.urandom(ulaw.stat().st_size))
    mp3 = out / r.manifest["chapters"][0]["mp3"]
    mp3.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    again = build(mini_guide, settings_for(tmp_path, engine="silence", jobs=1))
    assert again.phone_encoded == 2 and again.encoded == 1  # dmp pages, welcome prompt; the intro MP3
    assert tree(out) == reference


def test_another_guides_interrupted_build_is_repaired(tmp_path, mini_guide, monkeypatch):
    """Guide B built into A's folder (explicitly allowed) is stopped after writing its phone sounds over A's
    but before its state: the next build of A makes every one of them again, instead of "0 files encoded"."""
    from audioguide.publishers.podcast import PodcastPublisher

    a = build(mini_guide, settings_for(tmp_path, engine="silence", jobs=1))
    out = a.out_dir
    reference = tree(out)
    other = edited(mini_guide, tmp_path / "other")
    (other / "guide.yaml").write_text((other / "guide.yaml").read_text().replace("id: mini", "id: autre")
                                      .replace("Le DMP est un carnet", "Le dossier médical partagé est un carnet"))

    def interrupted(self, result):
        raise KeyboardInterrupt  # Ctrl+C, or a kill: on disk, every file is whole either way

    with monkeypatch.context() as m:
        m.setattr(PodcastPublisher, "publish", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build(other, settings_for(tmp_path, engine="silence", jobs=1, allow_foreign_files=True))
    overwritten = [rel for rel in reference if rel.startswith("phone/sounds/") and tree(out)[rel] != reference[rel]]
    assert len(overwritten) >= 15  # both chapters' pages
    assert published_problems(out) == []  # A's feed and manifest still name A's files, all there

    again = build(mini_guide, settings_for(tmp_path, engine="silence", jobs=1, allow_foreign_files=True))
    assert again.phone_encoded == 2  # both chapters' pages made again
    got = tree(out)
    assert {rel: got.get(rel) for rel in reference} == reference
    recorded = {json.loads(x).get("path"): json.loads(x).get("guide")
                for x in (out / OWNERSHIP_NAME).read_text().splitlines()}
    assert all(recorded.get(rel) == "autre" for rel in set(got) - set(reference))  # B's own files: not A's to remove


def test_serve_never_shows_a_feed_naming_other_bytes(tmp_path, mini_guide):
    """Backs "a reader never sees a feed pointing at a file that is not there": while `audioguide serve` serves
    the folder, a reader fetches the manifest, the feed and every MP3 they name, over and over, during
    rebuilds that change the audio each time; every file is there with the size and sha256 stated."""
    import urllib.error
    import urllib.request
    from urllib.parse import quote

    from audioguide.serve import make_server

    g = mini_guide / "guide.yaml"
    texts = [g.read_text(), (edited(mini_guide, tmp_path / "b") / "guide.yaml").read_text()]
    out = build(mini_guide, settings_for(tmp_path, engine="silence", jobs=1)).out_dir
    server = make_server(out, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    stop, problems, rounds = threading.Event(), [], []

    def read(rel: str) -> bytes | None:
        try:
            with urllib.request.urlopen(base + quote(rel), timeout=10) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    done = threading.Condition()

    def reader():
        while not stop.is_set():
            problems.extend(published_problems(out, read))
            with done:
                rounds.append(1)
                done.notify_all()

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(6):
            with done:
                before = len(rounds)
            g.write_text(texts[(i + 1) % 2])
            build(mini_guide, settings_for(tmp_path, engine="silence", jobs=1))
            # A whole round begun during this build or after it: the reader really read each one, however
            # the threads were scheduled (the timeout only ends a hang).
            with done:
                assert done.wait_for(lambda before=before: len(rounds) >= before + 2, timeout=300)
    finally:
        stop.set()
        t.join(30)
        server.shutdown()
        server.server_close()
    assert problems == [] and len(rounds) >= 12


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
