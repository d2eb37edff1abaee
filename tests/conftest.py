import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from audioguide.config import BuildSettings

# Hypothesis: the same examples on every run (CI's result must not depend on a seed), no example database;
# failures found once are pinned with @example in the test. HYPOTHESIS_PROFILE=explore searches at random
# (and keeps what it finds in .hypothesis/) to find new ones; script/mutation uses the short "mutation" one.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("default", derandomize=True, database=None, print_blob=True, **_COMMON)
settings.register_profile("explore", derandomize=False, **_COMMON)
settings.register_profile("mutation", derandomize=True, database=None, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """max_examples for a property test: n, or a tenth of it under script/mutation (one run per mutant)."""
    return max(10, n // 10) if PROFILE == "mutation" else n


DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
ESANTE = ROOT / "guides" / "e-sante"


def have_tools() -> bool:
    return bool(shutil.which("espeak-ng") and shutil.which("ffmpeg") and shutil.which("ffprobe"))


needs_tools = pytest.mark.skipif(not have_tools(), reason="espeak-ng and ffmpeg are installed by script/bootstrap")


@pytest.fixture
def mini_guide(tmp_path) -> Path:
    """A writable copy of the small fixture guide."""
    dst = tmp_path / "mini"
    shutil.copytree(DATA / "mini", dst)
    return dst


def settings_for(tmp: Path, **kw) -> BuildSettings:
    kw = {"out_dir": tmp / "out", "cache_dir": tmp / "cache", "progress": False, **kw}
    s = BuildSettings(**kw)
    return s


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory):
    """One real build (espeak-ng + ffmpeg) of the fixture guide, shared by the read-back tests."""
    if not have_tools():
        pytest.skip("needs espeak-ng and ffmpeg")
    from audioguide.build import build

    tmp = tmp_path_factory.mktemp("mini-build")
    result = build(DATA / "mini", settings_for(tmp))
    return result


@pytest.fixture(scope="session")
def esante_build(tmp_path_factory):
    """One real build of the e-santé guide (about a minute), shared by every module that reads one back."""
    if not have_tools():
        pytest.skip("needs espeak-ng and ffmpeg")
    from audioguide.build import build

    return build(ESANTE, settings_for(tmp_path_factory.mktemp("esante")))


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    """A small disk of its own (to fill up, or to make read-only); needs root, as CI has."""
    path.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                      capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


# script/mutation: mutmut runs, for each mutant, the tests that ran its function while it timed them. A shared
# fixture (a build) runs its code once, inside the first test that asks for it, so the later tests that read the
# same build back would never meet that code's mutants. While mutmut times the tests, each test that uses a
# shared fixture is credited with the code that made it.
class _CreditSharedFixtures:
    def __init__(self):
        self.made_by: dict[str, set[str]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if fixturedef.scope == "function":
            yield
            return
        from mutmut.state import state
        outer, state()._stats = state()._stats, set()
        try:
            yield
        finally:
            self.made_by[fixturedef.argname] = made = state()._stats
            state()._stats = outer | made

    def pytest_runtest_setup(self, item):
        _clear_caches()  # a cached result (esante_menu()) would credit its code to the first test that asked only

    def pytest_runtest_call(self, item):
        from mutmut.state import state
        for name in item.fixturenames:
            state()._stats |= self.made_by.get(name, set())


def pytest_configure(config):
    # Registered as a plugin: a conftest's own hooks are not called for a session fixture set up from above tests/.
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        config.pluginmanager.register(_CreditSharedFixtures(), "credit-shared-fixtures")


def pytest_sessionstart(session):
    # script/mutation: each mutant's tests run in a process forked from mutmut's after its clean run, so a
    # functools cache filled then (esante_menu() here, the narration's tables in src) would hand the mutant the
    # original code's results. Each mutant starts with them empty.
    if os.environ.get("MUTANT_UNDER_TEST", "") not in ("", "stats"):
        _clear_caches()


def _clear_caches() -> None:
    import functools
    import sys

    for module in list(sys.modules.values()):
        for obj in list(getattr(module, "__dict__", {}).values()):
            for o in (obj, *(vars(obj).values() if isinstance(obj, type) else ())):
                if isinstance(o, functools._lru_cache_wrapper):
                    o.cache_clear()


@pytest.fixture(autouse=True)
def _language(request, monkeypatch):
    """English messages, the msgids most tests assert; `@pytest.mark.french` keeps the default French.
    LANGUAGE reaches the commands run in a subprocess too; set_language, those run in this process."""
    from audioguide.i18n import set_language

    lang = "fr" if request.node.get_closest_marker("french") else "en"
    monkeypatch.setenv("LANGUAGE", lang)
    set_language(lang)
    yield
    set_language()


# Debian's chromium, for the kiosk's and the studio's browser tests (one for the whole session).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio"]


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the session: its sync API refuses a second one while the first runs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    """A headless chromium; a test that needs other flags (a fake microphone) launches its own from `playwright`."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()
