"""Rebuilds: what is up to date is kept, and only that. Uses the silent engine: the freshness logic is the same
for every engine, and ffmpeg still encodes and tags real MP3s."""

import hashlib
import json
import shutil

import pytest

from audioguide.build import STATE_FILE, build
from conftest import DATA, needs_tools, settings_for

pytestmark = [needs_tools]


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rebuild")
    shutil.copytree(DATA / "mini", tmp / "mini")
    return tmp, build(tmp / "mini", settings_for(tmp, engine="silence"))


@pytest.fixture
def built(first_build, tmp_path):
    """A copy of one finished build (guide, output, cache) for each test to damage and rebuild."""
    src, first = first_build
    for d in ("mini", "out", "cache"):
        shutil.copytree(src / d, tmp_path / d)
    return tmp_path / "mini", settings_for(tmp_path, engine="silence"), first.manifest, tmp_path / "out"


def test_an_unchanged_rebuild_encodes_nothing(built):
    guide, s, manifest, out = built
    again = build(guide, s)
    assert again.encoded == 0 and again.manifest == manifest


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_chapter_mp3_is_encoded_again(built, damage):
    """A copy interrupted or corrupted on disk, with its state entry intact: the listener must not get it."""
    guide, s, manifest, out = built
    ch = manifest["chapters"][1]
    mp3 = out / ch["mp3"]
    good = mp3.read_bytes()
    if damage == "flip":  # same size, same date: only the checksum can tell
        mid = len(good) // 2
        mp3.write_bytes(good[:mid] + bytes(b ^ 0xFF for b in good[mid:mid + 64]) + good[mid + 64:])
    elif damage == "truncate":
        mp3.write_bytes(good[: len(good) // 2])
    else:
        mp3.unlink()
    again = build(guide, s)
    assert mp3.read_bytes() == good  # encoded again, bit-exactly
    assert again.encoded == 1  # that chapter only (the whole-guide file is made from the chapters' keys)
    assert sha(mp3) == ch["sha256"] == again.manifest["chapters"][1]["sha256"]


def test_a_damaged_whole_guide_mp3_is_made_again(built):
    guide, s, manifest, out = built
    whole = out / manifest["whole"]["mp3"]
    good = whole.read_bytes()
    whole.write_bytes(good[:-100] + b"\0" * 100)
    again = build(guide, s)
    assert whole.read_bytes() == good and again.encoded == 1


def test_a_state_without_checksum_or_gain_is_not_trusted(built):
    guide, s, manifest, out = built
    state_file = out / STATE_FILE
    state = json.loads(state_file.read_text("utf-8"))
    del state["chapters"]["introduction"]["sha256"]
    del state["chapters"]["dmp"]["gain_db"]
    state_file.write_text(json.dumps(state), "utf-8")
    assert build(guide, s).encoded == 2


def test_an_edit_rebuilds_its_chapter_only(built):
    guide, s, manifest, out = built
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("Appelez le 15", "Appelez le 112"), "utf-8")
    again = build(guide, s)
    assert again.encoded == 2  # the DMP chapter and the whole-guide file
    a, b = manifest["chapters"], again.manifest["chapters"]
    assert a[0]["sha256"] == b[0]["sha256"] and a[1]["sha256"] != b[1]["sha256"]
