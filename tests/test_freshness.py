"""The "nothing changed" early stop (freshness.py): it must never leave an output that a real build would
write differently. Uses the silent engine, as tests/test_rebuild.py does."""

import shutil
import signal
import subprocess
import sys

import pytest

from audioguide.build import Builder, build
from conftest import DATA, ROOT, needs_tools, settings_for

pytestmark = [needs_tools]


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("freshness")
    shutil.copytree(DATA / "mini", tmp / "mini")
    build(tmp / "mini", settings_for(tmp, engine="silence", jobs=1))
    return tmp


@pytest.fixture
def built(first_build, tmp_path, monkeypatch):
    """A copy of one finished build (guide, output, cache), and a list that grows each time a build narrates
    (a build that stops early never does)."""
    for d in ("mini", "out", "cache"):
        shutil.copytree(first_build / d, tmp_path / d)
    calls = []
    real = Builder.narrate
    monkeypatch.setattr(Builder, "narrate", lambda self: calls.append(1) or real(self))
    return tmp_path / "mini", settings_for(tmp_path, engine="silence", jobs=1), tmp_path / "out", calls


KILLED_BUILD = """
import os, signal, sys
from pathlib import Path
from audioguide.build import build
from audioguide.config import BuildSettings
from audioguide.publishers.podcast import PodcastPublisher

PodcastPublisher.publish = lambda self, result: os.kill(os.getpid(), signal.SIGKILL)
tmp = Path(sys.argv[1])
build(tmp / "mini", BuildSettings(engine="silence", out_dir=tmp / "out", cache_dir=tmp / "cache", jobs=1,
                                  progress=False, kiosk_idle=60))
"""


@pytest.mark.parametrize("stop", ["killed", "failed"])
def test_a_build_that_stopped_midway_is_not_taken_for_the_last_finished_one(built, stop, monkeypatch):
    """A build with other inputs (here the kiosk's idle time) rewrites the kiosk page, then is killed, or fails
    (a full disk) before the podcast feed. The page is recorded as it now is, so its size and date vouch for
    it; going back to the last finished build's inputs must still write it again, not stop early."""
    guide, s, out, narrations = built
    page = out / "kiosk" / "index.html"
    assert '"idle":120' in page.read_text("utf-8")
    if stop == "killed":
        run = subprocess.run([sys.executable, "-c", KILLED_BUILD, str(guide.parent)], cwd=ROOT,
                             capture_output=True, text=True)
        assert run.returncode == -signal.SIGKILL, run.stderr
    else:
        from audioguide.exceptions import PublishError
        from audioguide.publishers.podcast import PodcastPublisher

        def full_disk(self, result):
            raise PublishError("Cannot write feed.xml: the disk is full.")

        with monkeypatch.context() as m:
            m.setattr(PodcastPublisher, "publish", full_disk)
            with pytest.raises(PublishError):
                build(guide, settings_for(guide.parent, engine="silence", jobs=1, kiosk_idle=60))
        narrations.clear()
    assert '"idle":60' in page.read_text("utf-8")  # the stopped build got that far

    build(guide, s)  # the last finished build's inputs again
    assert narrations == [1] and '"idle":120' in page.read_text("utf-8")
    build(guide, s)  # and, the folder whole again, the next one stops early
    assert narrations == [1]
