"""The builds the phone tests read back, made once per process under script/mutation (as tests/book_builds.py
does for the books).

mutmut runs each mutant's tests in a process forked from its own, where every read-back test would build its
guide again (speech, chapter MP3s, every format): the bulk of the phone and menu groups' CPU. Only the phone's
code is mutated in those groups, so under script/mutation a guide is built once (by mutmut's own process) and
each later build gets a copy of that folder without its phone/ bundle: the rebuild there has nothing to
synthesise or encode but the phone bundle, which it makes again with the code under test (menu, dialplan,
VoiceXML, telephony audio), the same bytes as a fresh build. Outside script/mutation, every call is a fresh build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from book_builds import keep_build

from audioguide.build import build

from conftest import DATA, have_tools, settings_for

_MADE: dict[str, Path] = {}  # the guide's files and the settings -> a kept copy of its first build (out/, cache/)
_MINI: dict[tuple, object] = {}  # (process, mutant) -> its mini_build: one rebuild for the three modules reading it


def _key(guide: Path, settings: dict) -> str:
    h = hashlib.sha256(repr(sorted(settings.items())).encode())
    for f in sorted(p for p in guide.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(guide)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def phone_build(guide: Path, tmp: Path, **settings):
    """build(guide) into tmp/out and tmp/cache; under script/mutation, only its phone bundle is made afresh."""
    phase = os.environ.get("MUTANT_UNDER_TEST")
    if phase is None:
        return build(guide, settings_for(tmp, **settings))
    key = _key(guide, settings)
    if phase == "stats" or key not in _MADE:
        # Stats: mutmut credits each test with the code its fixtures ran, so the whole build runs here.
        result = build(guide, settings_for(tmp, **settings))
        if key not in _MADE:
            _MADE[key] = keep_build(tmp, "audioguide-phone-")
        return result
    kept = _MADE[key]
    shutil.copytree(kept / "out", tmp / "out", symlinks=True)
    shutil.copytree(kept / "cache", tmp / "cache", symlinks=True)
    shutil.rmtree(tmp / "out" / "phone")
    return build(guide, settings_for(tmp, **settings))


@pytest.fixture(scope="module")
def mini_build(tmp_path_factory):
    """conftest's mini_build, for the phone test modules under script/mutation (they import it there only)."""
    if not have_tools():
        pytest.skip("needs espeak-ng and ffmpeg")
    phase = os.environ.get("MUTANT_UNDER_TEST")
    if phase == "stats":
        return phone_build(DATA / "mini", tmp_path_factory.mktemp("mini-build"))
    made = _MINI.get((os.getpid(), phase))
    if made is None or not made.out_dir.is_dir():  # read only, as conftest's session-wide one is
        made = _MINI[os.getpid(), phase] = phone_build(DATA / "mini", tmp_path_factory.mktemp("mini-build"))
    return made
