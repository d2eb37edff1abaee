"""One build per output folder, proved with real processes: started at the same instant, killed, other users."""

import fcntl
import hashlib
import json
import multiprocessing
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.exceptions import LockError, PublishError
from audioguide.lock import OutputLock

from conftest import DATA, needs_tools
from stepped_build import Stepped

pytestmark = needs_tools

# Each process imports everything first, says so, then waits for the test to release all of them at once: the
# builds reach the lock within a few milliseconds of each other, which is how the race was found. Released
# when every one is ready, not at a guessed instant: a slow start on a busy machine cannot make one late.
STARTER = """
import os, sys
from audioguide.cli import main
import audioguide.build
ready, go, args = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
os.write(ready, b".")
os.read(go, 1)  # returns when the test closes the pipe
sys.argv = ["audioguide", "-q"] + args
main()
"""


def _build_args(out: Path, cache: Path) -> list[str]:
    return ["build", str(DATA / "mini"), "--out", str(out), "--cache", str(cache), "--engine", "silence",
            "--jobs", "1"]


def _published_match_the_manifest(out: Path) -> None:
    m = json.loads((out / "manifest.json").read_text())
    for entry in m["chapters"] + [m["whole"]]:
        data = (out / entry["mp3"]).read_bytes()
        assert len(data) == entry["bytes"] and hashlib.sha256(data).hexdigest() == entry["sha256"], entry["mp3"]


def _hold(folder: Path, barrier, tried, results) -> None:
    barrier.wait()
    try:
        with OutputLock(folder):
            results.put("held")
            tried.wait(timeout=60)  # hold until every other process has met the lock, however slow the machine
    except LockError as exc:
        results.put(str(exc))
        tried.wait(timeout=60)


def test_the_lock_is_atomic_between_processes_released_at_the_same_instant(tmp_path):
    """Thirty rounds of four processes released by one barrier onto an unlocked folder: exactly one holds it.
    (Read-then-write locking let two through in about one round in four.)"""
    ctx = multiprocessing.get_context("fork")
    for round_ in range(30):
        folder = tmp_path / f"f{round_}"
        barrier, tried, results = ctx.Barrier(4), ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_hold, args=(folder, barrier, tried, results)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=60)
        got = [results.get(timeout=5) for _ in procs]
        assert got.count("held") == 1, got
        # A refused process may read the file before the holder has written its PID: then no PID is named.
        assert all(re.match(r"Another build (\(process \d+\) )?is writing", g) for g in got if g != "held"), got
        assert not (folder / ".lock").exists()


def test_builds_started_at_the_same_instant_one_builds_the_others_are_refused(tmp_path):
    """Three rounds of three `audioguide build` of the same folder at once: exactly one builds each time, the
    others exit 6 with a clear message and no traceback, and what is published matches the manifest."""
    cache = tmp_path / "cache"
    for round_ in range(3):
        out = tmp_path / f"out{round_}"
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        procs = [subprocess.Popen([sys.executable, "-c", STARTER, str(ready_w), str(go_r)] + _build_args(out, cache),
                                  pass_fds=(ready_w, go_r), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(3)]
        os.close(ready_w)
        os.close(go_r)
        got = b""
        while len(got) < 3 and select.select([ready_r], [], [], 300)[0]:  # 300 s: only against a hang
            if not (chunk := os.read(ready_r, 3)):
                break  # they all ended
            got += chunk
        os.close(ready_r)
        os.close(go_w)  # and go
        assert got == b"...", [p.poll() for p in procs]  # all three were waiting
        results = [(p.wait(timeout=300), p.stdout.read() + p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        codes = sorted(code for code, _ in results)
        assert codes == [0, 6, 6], results
        for code, output in results:
            assert "Traceback" not in output and "stale lock" not in output, output
            if code == 6:
                assert f"is writing {out}" in output and "Fix: wait for the other build" in output, output
                assert "process  " not in output and "process )" not in output
        _published_match_the_manifest(out)
        assert not (out / ".lock").exists()


def test_a_held_lock_still_empty_is_respected(tmp_path, mini_guide):
    """The holder has locked the file but not yet written its PID: that is a running build, not a stale lock."""
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        res = CliRunner().invoke(cli, _build_args(out, tmp_path / "c"))
        assert res.exit_code == 6, res.output
        assert f"Another build is writing {out}" in res.output and "Traceback" not in res.output
        assert not (out / "manifest.json").exists()
    finally:
        os.close(fd)


def test_a_killed_build_releases_the_lock(tmp_path):
    """SIGKILL in the middle of a build: the kernel drops the lock, and the next build takes over at once."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    run = Stepped(["-q"] + _build_args(out, cache))
    try:
        next(run.steps())  # the build is about to change its first file: it holds the lock, and waits
        assert (out / ".lock").read_text().split()[0] == str(run.proc.pid)
    finally:
        run.kill()
    proc = run.proc
    res = subprocess.run([sys.executable, "-m", "audioguide"] + _build_args(out, cache), capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    assert f"stale lock left by process {proc.pid}" in res.stderr and "Traceback" not in res.stderr
    _published_match_the_manifest(out)
    assert not (out / ".lock").exists()


def _lock_as(uid: int, folder: Path) -> tuple[int, str]:
    """Take OutputLock(folder) in a forked child running as `uid`; (exit code, message)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no pytest machinery from here on, only os._exit
        code, text = 1, ""
        try:
            os.close(read)
            os.setgid(uid)
            os.setuid(uid)
            with OutputLock(folder):
                code, text = 0, "locked"
        except LockError as exc:
            code, text = exc.exit_code, str(exc)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
            text = repr(exc)
        finally:
            os.write(write, text.encode())
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as fh:
        text = fh.read()
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), text


def test_a_lock_of_a_process_owned_by_another_user_is_respected():
    """os.kill(pid, 0) raises PermissionError for another user's process: it is alive, the folder is taken."""
    if os.geteuid() != 0:
        pytest.skip("switching to another user to meet PermissionError needs root (CI runs as root)")
    shared = Path(tempfile.mkdtemp(prefix="audioguide-lock-"))
    try:
        shared.chmod(0o777)
        # PID 1 belongs to root: to the unprivileged child it is alive but not its own.
        (shared / ".lock").write_text(f"1 {socket.gethostname()}\n")
        code, text = _lock_as(65534, shared)
        assert code == 6 and f"Another build (process 1) is writing {shared}" in text, text
        # The same file naming a dead process is taken over, even when another user left it.
        dead = subprocess.Popen(["true"])
        dead.wait()
        (shared / ".lock").write_text(f"{dead.pid} {socket.gethostname()}\n")
        assert _lock_as(65534, shared) == (0, "locked")
    finally:
        for p in shared.iterdir():
            p.unlink()
        shared.rmdir()


def test_a_held_lock_names_its_holder():
    """The second build is told which process holds the folder: the PID written at the start of the file."""
    folder = Path(tempfile.mkdtemp(prefix="audioguide-lock-"))
    try:
        with OutputLock(folder):
            assert (folder / ".lock").read_text() == f"{os.getpid()} {socket.gethostname()}\n"
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                text = ""
                try:
                    with OutputLock(folder):
                        text = "locked"
                except LockError as exc:
                    text = str(exc)
                finally:
                    os.write(write, text.encode())
                    os._exit(0)
            os.close(write)
            with os.fdopen(read) as fh:
                text = fh.read()
            os.waitpid(pid, 0)
        assert f"Another build (process {os.getpid()}) is writing {folder}." in text, text
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


def test_a_lock_file_left_by_another_user_still_locks():
    """Root's 0644 lock file cannot be opened for writing by another user: it is locked read-only, so a held
    folder is still refused with a clear message, never a PermissionError."""
    if os.geteuid() != 0:
        pytest.skip("switching to another user needs root (CI runs as root)")
    shared = Path(tempfile.mkdtemp(prefix="audioguide-lock-"))
    try:
        shared.chmod(0o777)
        with OutputLock(shared):
            assert (shared / ".lock").stat().st_uid == 0
            code, text = _lock_as(65534, shared)
        assert code == 6 and f"Another build (process {os.getpid()}) is writing {shared}" in text, text
    finally:
        for p in shared.iterdir():
            p.unlink()
        shared.rmdir()


def test_a_lock_file_that_keeps_being_replaced_is_explained(tmp_path, monkeypatch):
    """If another program keeps replacing .lock, the build gives up with the cause instead of looping."""
    import audioguide.lock as lock_module

    real_stat = os.stat

    def replaced(path, *a, **k):
        if str(path).endswith("/.lock"):
            raise FileNotFoundError(path)
        return real_stat(path, *a, **k)

    monkeypatch.setattr(lock_module.os, "stat", replaced)
    with pytest.raises(LockError) as exc:
        with OutputLock(tmp_path):
            pass
    assert exc.value.message == f"Could not lock {tmp_path}."
    assert exc.value.cause == "the lock file keeps being replaced"
    assert exc.value.fix == "make sure no other program writes this folder, then build again"


def test_the_lock_file_is_readable_by_all_and_executable_by_none(tmp_path):
    """Another user's build reads who holds the folder; nobody can run the lock file."""
    old = os.umask(0o022)
    try:
        with OutputLock(tmp_path):
            assert (tmp_path / ".lock").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_a_lock_file_planted_as_a_link_is_refused_and_its_target_kept(tmp_path):
    """A link at .lock would have the lock written into the file it points at: refused, with the link named."""
    target = tmp_path / "bashrc"
    target.write_bytes(b"export PATH=precious\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".lock").symlink_to(target)
    with pytest.raises(PublishError) as exc:
        with OutputLock(tmp_path / "out"):
            pass
    assert target.read_bytes() == b"export PATH=precious\n"
    assert exc.value.message.startswith(f"{tmp_path / 'out' / '.lock'} is a symbolic link (to {target})")
