"""The builds the EPUB and DAISY tests read back, made once per process under script/mutation.

mutmut runs each mutant's tests in a process forked from its own, where every read-back test would build its
guide again (speech, chapter MP3s, phone audio, every format): seconds of CPU per mutant. Only the books'
publishers are mutated in that group, so under script/mutation a guide is built once (by mutmut's own
process) and each later test gets a copy of that folder without its books and cover: the rebuild there has
nothing to synthesise or encode and writes the books again with the code under test, the same bytes as a
fresh build. Outside script/mutation, every call is a fresh build.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from audioguide.build import build

from conftest import settings_for

_MADE: dict[str, Path] = {}  # "<guide folder name> <settings>" -> a kept copy of its first build (out/ and cache/)



def keep_build(tmp: Path, prefix: str) -> Path:
    """A copy of the build in TMP (its out/ and cache/), removed when the process that made it ends."""
    kept = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copytree(tmp / "out", kept / "out", symlinks=True)
    shutil.copytree(tmp / "cache", kept / "cache", symlinks=True)
    pid = os.getpid()  # mutmut's forked workers leave it to the process that made it
    atexit.register(lambda: os.getpid() == pid and shutil.rmtree(kept, ignore_errors=True))
    return kept

def _uncredit_cover() -> None:
    """While mutmut times the tests: the books' read-back tests are not credited with cover.py, whose drawing
    they cannot see (a cover that fails to draw stops test_cover.py's tests too); its mutants run test_cover.py
    alone, not every build of the group."""
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        from mutmut.state import state

        state()._stats = {n for n in state()._stats if not n.startswith("audioguide.publishers.cover.")}


def rebuild(guide: Path, settings):
    """build(), for a test that rebuilds a copy of a fixture's build (see _uncredit_cover)."""
    result = build(guide, settings)
    _uncredit_cover()
    return result


def book_build(guide: Path, tmp: Path, **settings):
    phase = os.environ.get("MUTANT_UNDER_TEST")
    key = f"{guide.name} {settings}"
    if phase is None or phase == "stats" or key not in _MADE:
        # Stats: mutmut credits each test with the code its fixtures ran, so the whole build runs here.
        result = build(guide, settings_for(tmp, **settings))
        _uncredit_cover()
        if phase is not None and key not in _MADE:
            _MADE[key] = keep_build(tmp, "audioguide-books-")
        return result
    kept = _MADE[key]
    shutil.copytree(kept / "out", tmp / "out", symlinks=True)
    for name in os.listdir(tmp / "out"):
        if name.endswith((".epub", "-daisy.zip")) or name == "cover.jpg":
            (tmp / "out" / name).unlink()
    shutil.rmtree(tmp / "out" / "daisy", ignore_errors=True)
    return build(guide, settings_for(tmp, cache_dir=kept / "cache", **settings))


def shared(request, name: str):
    """request.getfixturevalue(name), for a test parametrized by the build it reads. Under script/mutation's
    timing run, the test is also credited with the code that made that build (conftest's _CreditSharedFixtures
    credits only the fixtures a test names), so its checks meet the mutants of that code."""
    value = request.getfixturevalue(name)
    plugin = request.config.pluginmanager.get_plugin("credit-shared-fixtures")
    if plugin is not None:
        from mutmut.state import state

        state()._stats |= plugin.made_by.get(name, set())
    return value
