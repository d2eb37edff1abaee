"""The clip cache keeps only whole clips and trusts a clip only while it is as written: damaged clips are made
again, and a full cache disk is explained as such. Real espeak-ng and ffmpeg builds of the mini guide; audio read
back. The cache on its own, with the silence engine: tests/test_clip_cache.py."""

import hashlib
import json
import os
import shutil
import subprocess
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from audioguide.build import build
from audioguide.cli import cli
from audioguide.files import OWNERSHIP_NAME
from audioguide.tts.base import RATE
from audioguide.tts.cache import ClipCache, clip_key, clip_problem

from conftest import DATA, needs_tools, settings_for, tmpfs

pytestmark = needs_tools
SENTENCE = "Le D.M.P. est un carnet de santé numérique."  # as narrated, in chapter dmp of the mini guide


def audio(out: Path) -> dict[str, str]:
    """sha256 of every published audio file (chapters and whole guide)."""
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*.mp3"))}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A clean build of the mini guide: its output, its cache, and the clip of SENTENCE in it."""
    tmp = tmp_path_factory.mktemp("clean")
    build(DATA / "mini", settings_for(tmp))
    cache = ClipCache(tmp / "cache")
    key = _built_key(tmp, SENTENCE)
    assert cache.path(key).exists() and cache.has(key)
    return tmp, key


def _built_key(tmp: Path, sentence: str) -> str:
    """The clip key a build of the mini guide uses for a sentence: its pace's rate, and the voice's text."""
    from audioguide.build import Builder
    from audioguide.guide import load_guide

    guide, settings = load_guide(DATA / "mini"), settings_for(tmp)
    settings.apply_guide(guide)
    builder = Builder(guide, settings)
    return clip_key(builder.engine, builder.voice(sentence))


def _truncate_half(clip: Path) -> None:
    data = clip.read_bytes()
    clip.write_bytes(data[:len(data) // 2])


def _header_only(clip: Path) -> None:
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)


def _random_bytes(clip: Path) -> None:
    clip.write_bytes(os.urandom(clip.stat().st_size))


def _zero_bytes(clip: Path) -> None:
    clip.write_bytes(b"")


def _cut_with_matching_header(clip: Path) -> None:
    """What espeak-ng left on a full disk: a sentence cut short, with a header that matches the short file."""
    with wave.open(str(clip)) as r:
        frames = r.readframes(r.getnframes() // 3)
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)


def _same_size_other_audio(clip: Path) -> None:
    """Same size, valid header, other samples: only the recorded hash can tell."""
    data = bytearray(clip.read_bytes())
    data[1000:3000] = os.urandom(2000)
    clip.write_bytes(bytes(data))


def _wrong_format(clip: Path) -> None:
    with wave.open(str(clip)) as r:
        frames = r.readframes(r.getnframes())
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE // 2)
        w.writeframes(frames)


DAMAGE = {"half-truncated": _truncate_half, "header only": _header_only, "random bytes": _random_bytes,
          "0 bytes": _zero_bytes, "cut, header to match": _cut_with_matching_header,
          "same size, other audio": _same_size_other_audio, "other format": _wrong_format}

ONLY_THE_RECORD_TELLS = {"cut, header to match", "same size, other audio"}


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_clip_is_made_again_and_the_audio_is_right(clean, tmp_path, kind, caplog):
    ref, key = clean
    cache = tmp_path / "cache"
    shutil.copytree(ref / "cache", cache)
    clip = ClipCache(cache).path(key)
    DAMAGE[kind](clip)
    assert (clip_problem(clip) is None) == (kind in ONLY_THE_RECORD_TELLS)
    result = build(DATA / "mini", settings_for(tmp_path))  # a fresh output: every chapter is encoded
    assert result.synthesized == 1
    dmp = next(c["mp3"] for c in result.manifest["chapters"] if c["id"] == "dmp")
    assert f"Cached clip {clip} is damaged" in caplog.text
    assert audio(tmp_path / "out") == audio(ref / "out")
    assert MP3(tmp_path / "out" / dmp).info.length == MP3(ref / "out" / dmp).info.length
    assert clip.read_bytes() == (ref / "cache" / clip.relative_to(cache)).read_bytes()


def test_with_every_clip_damaged_the_build_is_byte_identical_to_a_clean_one(clean, tmp_path, caplog):
    """Page clips and phone prompts alike: every published file, the phone bundle included, is as a clean
    build makes it."""
    ref, _ = clean
    cache = tmp_path / "cache"
    shutil.copytree(ref / "cache", cache)
    clips = sorted((cache / "clips").rglob("*.wav"))
    for i, clip in enumerate(clips):
        list(DAMAGE.values())[i % len(DAMAGE)](clip)
    build(DATA / "mini", settings_for(tmp_path))
    assert caplog.text.count("is damaged") == len(clips)

    def tree(folder: Path) -> dict[str, bytes]:
        # The ownership journal records write times, so only it may differ.
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                if p.is_file() and p.name != OWNERSHIP_NAME}

    assert tree(tmp_path / "out") == tree(ref / "out")
    assert every_clip_is_whole(cache) == len(clips)


def test_a_clip_without_record_is_not_trusted(clean, tmp_path):
    """Clips made before records were kept may be cut short with a header to match: they are made again."""
    ref, key = clean
    cache = tmp_path / "cache"
    shutil.copytree(ref / "cache", cache)
    _cut_with_matching_header(ClipCache(cache).path(key))
    for record in (cache / "clips").rglob("*.json"):
        record.unlink()
    before = {p: p.stat().st_mtime_ns for p in (cache / "clips").rglob("*.wav")}
    build(DATA / "mini", settings_for(tmp_path))
    assert all(p.stat().st_mtime_ns != t for p, t in before.items())  # every one made again
    assert every_clip_is_whole(cache) == len(before)
    assert audio(tmp_path / "out") == audio(ref / "out")


def test_an_untouched_cache_is_not_hashed_again(clean, tmp_path, monkeypatch):
    """A no-change rebuild trusts the size, mtime and record, so it does not read every clip."""
    ref, _ = clean
    cache = tmp_path / "cache"
    shutil.copytree(ref / "cache", cache)  # copytree keeps mtimes
    import audioguide.tts.cache as cache_module

    hashed = []
    real = cache_module.sha256_file
    monkeypatch.setattr(cache_module, "sha256_file", lambda p: hashed.append(p) or real(p))
    result = build(DATA / "mini", settings_for(tmp_path))
    assert result.synthesized == 0 and hashed == []


# --- a full cache disk ----------------------------------------------------------------------------------------



def every_clip_is_whole(cache: Path) -> int:
    c = ClipCache(cache)
    clips = [p.stem for p in c.root.rglob("*.wav")]
    assert [k for k in clips if c.problem(k)] == []
    assert list(c.root.rglob(".*")) == []  # no temp file left
    return len(clips)


@pytest.mark.parametrize("size", ["256k", "2m"])  # full during synthesis; full during chapter assembly
def test_a_full_cache_disk_is_explained_and_keeps_no_bad_clip(clean, tmp_path, size):
    ref, _ = clean
    with tmpfs(tmp_path / "disk", size) as disk:
        cache, out = disk / "cache", tmp_path / "out"
        args = ["build", str(DATA / "mini"), "--out", str(out), "--cache", str(cache)]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 5, res.output
        assert f"Cannot write the clip cache {cache}" in res.output and "disk is full" in res.output
        assert "--cache DIR or AUDIOGUIDE_CACHE=DIR" in res.output and "--out" not in res.output
        assert "Traceback" not in res.output and "reinstall" not in res.output
        assert not (out / "manifest.json").exists()
        every_clip_is_whole(cache)
        # Room made on the same disk: the rebuild publishes exactly what a clean build does.
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
        assert audio(out) == audio(ref / "out")
        assert every_clip_is_whole(cache) == len(list((ref / "cache" / "clips").rglob("*.wav")))


def test_records_are_written_with_each_clip(clean):
    ref, key = clean
    c = ClipCache(ref / "cache")
    record = json.loads(c.path(key).with_suffix(".json").read_text())
    clip = c.path(key)
    assert record == {"sha256": hashlib.sha256(clip.read_bytes()).hexdigest(), "size": clip.stat().st_size,
                      "mtime_ns": clip.stat().st_mtime_ns}
