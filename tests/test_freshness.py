"""The "nothing changed" early stop (freshness.py): it must never leave an output that a real build would
write differently. Uses the silent engine, as tests/test_rebuild.py does."""

import importlib
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from audioguide.build import Builder, build
from audioguide.publishers import publisher_classes

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


PLUGIN = '''
from audioguide.files import update_bytes
from audioguide.publishers import Publisher


class ExtraPublisher(Publisher):
    name = "extra"

    def publish(self, result):
        path = result.out_dir / "extra.txt"
        update_bytes(path, result.guide.title.encode("utf-8"))
        return [path]
'''


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """Installs a publisher from another distribution, as `pip install` would (an entry point in its
    dist-info); what the process had loaded is forgotten, as a new `audioguide build` process would."""
    site = tmp_path / "site"

    def install(version: str = "1.0") -> None:
        shutil.rmtree(site, ignore_errors=True)
        info = site / f"extra_publisher-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: extra-publisher\nVersion: {version}\n")
        (info / "entry_points.txt").write_text("[audioguide.publishers]\nextra = extra_publisher:ExtraPublisher\n")
        (site / "extra_publisher.py").write_text(textwrap.dedent(PLUGIN))
        importlib.invalidate_caches()
        publisher_classes.cache_clear()

    monkeypatch.syspath_prepend(str(site))
    yield install
    sys.modules.pop("extra_publisher", None)
    publisher_classes.cache_clear()


def test_a_publisher_installed_since_the_last_build_writes_its_files(built, install_plugin):
    guide, s, out, narrations = built
    install_plugin()
    build(guide, s)
    assert narrations == [1] and (out / "extra.txt").read_text("utf-8") == "Guide d'essai & <test>"
    build(guide, s)
    assert narrations == [1]  # installed and built: nothing changed any more


def test_a_quiet_build_does_not_silence_the_next_ones(built, caplog):
    """`audioguide -q build` hears no warnings, so it records none; the next build, not quiet, must still say
    what is wrong with the guide (here a public feed with no owner's email) rather than replay nothing."""
    guide, s, out, narrations = built
    s.base_url = "https://example.org/mini/"
    with caplog.at_level("ERROR"):
        build(guide, s)
    caplog.clear()
    build(guide, s)
    assert sum("no `email:`" in r.getMessage() for r in caplog.records) == 1
    caplog.clear()
    build(guide, s)
    assert narrations == [1, 1] and sum("no `email:`" in r.getMessage() for r in caplog.records) == 1


def test_a_guide_saved_while_a_build_starts_is_built_by_the_next_one(built, monkeypatch):
    """The guide is saved again after the build read it but before its key was made (an editor saving twice
    under a file watcher): that build's output is of the first text, so its key must be too, or the next
    build would take the output for the second text and stop early."""
    import audioguide.build.builder

    guide, s, out, narrations = built
    g = guide / "guide.yaml"
    real = audioguide.build.builder.check_out_dir

    def saved_meanwhile(*args):
        g.write_text(g.read_text("utf-8").replace("rights: CC BY 4.0", "rights: CC BY 4.0\nemail: dmp@asso.example"),
                     "utf-8")
        return real(*args)

    with monkeypatch.context() as m:
        m.setattr(audioguide.build.builder, "check_out_dir", saved_meanwhile)
        build(guide, s)
    assert "dmp@asso.example" not in (out / "feed.xml").read_text("utf-8")  # built from the text it read
    build(guide, s)
    assert narrations == [1, 1] and "dmp@asso.example" in (out / "feed.xml").read_text("utf-8")
