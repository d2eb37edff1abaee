"""Rebuilds: what is up to date is kept, and only that. Uses the silent engine: the freshness logic is the same
for every engine, and ffmpeg still encodes and tags real MP3s."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from audioguide.build import STATE_FILE, build
from audioguide.publishers.podcast import whole_chapters_json_path

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


@pytest.mark.parametrize("edit", ["publisher", "rights", "date", "link", "subtitle", "loudness", "bitrate"])
def test_what_the_tags_or_the_sound_depend_on_rebuilds_every_chapter(built, edit):
    """Each of these changes every chapter file (tags, cover or audio) without changing a word that is said."""
    guide, s, manifest, out = built
    g = guide / "guide.yaml"
    text = g.read_text("utf-8")
    text = {"publisher": text.replace("publisher: Association Test", "publisher: Autre Asso"),
            "rights": text.replace("rights: CC BY 4.0", "rights: CC BY-SA 4.0"),
            "date": text.replace("date: 2024-03-01", "date: 2025-03-01"),
            "link": text.replace("rights: CC BY 4.0", "rights: CC BY 4.0\nlink: https://asso.example/"),
            "subtitle": text.replace("subtitle: Un petit guide pour les tests", "subtitle: Un autre sous-titre"),
            }.get(edit, text)
    g.write_text(text, "utf-8")
    if edit == "loudness":
        s.loudness_lufs = -18.0
    if edit == "bitrate":
        s.bitrate_kbps = 96
    again = build(guide, s)
    assert again.encoded == 3  # both chapters and the whole-guide file
    assert [c["sha256"] for c in again.manifest["chapters"]] != [c["sha256"] for c in manifest["chapters"]]
    assert again.manifest["chapters"][0]["sha256"] != manifest["chapters"][0]["sha256"]


def test_a_broken_state_file_means_a_full_rebuild_not_a_crash(built):
    guide, s, manifest, out = built
    (out / STATE_FILE).write_text("{not json", "utf-8")
    again = build(guide, s)
    assert again.encoded == 3 and again.manifest["chapters"] == manifest["chapters"]


def test_files_of_removed_chapters_are_removed(built):
    """What an earlier build wrote for a chapter that is gone is removed (after one more build: a reader of the
    previous feed still finds its files); what no build recorded is never touched."""
    guide, s, manifest, out = built
    (out / "audio" / "99-mine.mp3").write_bytes(b"mine")
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("- id: dmp", "- id: dossier"), "utf-8")
    s.allow_foreign_files = True
    build(guide, s)
    again = build(guide, s)
    names = {f"{sub}/{f.name}" for sub in ("audio", "transcripts", "chapters") for f in (out / sub).iterdir()}
    want = {c["mp3"] for c in again.manifest["chapters"]} | {c["chapters_json"] for c in again.manifest["chapters"]}
    want |= {v for c in again.manifest["chapters"] for v in c["transcript"].values()} | {"audio/99-mine.mp3"}
    want |= {whole_chapters_json_path(again.manifest)}  # the whole guide's podcast:chapters
    assert names == want and not any("dmp" in n for n in names)
    assert any(n.startswith("audio/02-dossier.") for n in names)


def test_an_up_to_date_chapter_still_gives_the_phone_its_missing_pages(built):
    guide, s, manifest, out = built
    lost = out / "phone" / "sounds" / "02-dmp-p01.wav"
    good = lost.read_bytes()
    lost.unlink()
    again = build(guide, s)
    assert again.encoded == 0 and again.phone_encoded == 1 and lost.read_bytes() == good


@pytest.fixture
def narrations(monkeypatch):
    """How many times a build narrated the guide: a rebuild that skips the work never does."""
    from audioguide.build import Builder

    calls = []
    real = Builder.narrate
    monkeypatch.setattr(Builder, "narrate", lambda self: calls.append(1) or real(self))
    return calls


def test_nothing_changed_skips_the_work_even_with_an_empty_cache(built, narrations, caplog, tmp_path):
    """Another job count and a new, empty clip cache do not change a byte of the output: the rebuild checks the
    files and stops."""
    guide, s, manifest, out = built
    journal = (out / ".audioguide-files.jsonl").read_bytes()
    s.jobs, s.cache_dir = 1, tmp_path / "empty-cache"
    with caplog.at_level("INFO"):
        again = build(guide, s)
    assert narrations == [] and "Nothing changed since the last build" in caplog.text
    assert again.manifest == manifest and again.encoded == again.synthesized == 0
    assert sorted(p.relative_to(out).as_posix() for p in again.files) == sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != ".audioguide-files.jsonl")
    assert (out / ".audioguide-files.jsonl").read_bytes() == journal
    assert not (tmp_path / "empty-cache").exists() or not any((tmp_path / "empty-cache").rglob("*.wav"))


def _other_code(monkeypatch):
    monkeypatch.setattr("audioguide.freshness.code_fingerprint", lambda: "another version of audioguide")


@pytest.mark.parametrize("change", ["touched file", "guide text", "base url", "kiosk idle", "pitch", "code",
                                    "cover font"])
def test_any_change_that_can_show_in_the_output_takes_the_real_build(built, narrations, change, monkeypatch,
                                                                     tmp_path):
    guide, s, manifest, out = built
    if change == "touched file":  # same bytes, another date: the record no longer vouches for it
        f = out / "transcript.txt"
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    elif change == "guide text":
        g = guide / "guide.yaml"
        g.write_text(g.read_text("utf-8").replace("Le DMP est un carnet", "Le DMP est un cahier"), "utf-8")
    elif change == "base url":
        s.base_url = "https://example.org/mini/"
    elif change == "kiosk idle":
        s.kiosk_idle = 60
    elif change == "pitch":
        s.pitch = 40
    elif change == "cover font":  # a font installed since: the cover, and so every tag, is drawn anew
        font = tmp_path / "DejaVuSans.ttf"
        font.write_bytes(b"a font file")
        monkeypatch.setattr("audioguide.freshness.font_file", lambda bold: font)
    else:
        _other_code(monkeypatch)
    build(guide, s)
    assert narrations == [1]
    build(guide, s)  # removes the files the change replaced, if any (kept one build for the previous feed)
    settled = len(narrations)
    build(guide, s)  # and then the same inputs skip the work again
    assert len(narrations) == settled


def test_warnings_about_the_guide_are_given_again_when_the_work_is_skipped(built, narrations, caplog):
    guide, s, manifest, out = built
    s.base_url = "https://example.org/mini/"  # a public feed with no owner's email: the podcast warns
    build(guide, s)
    caplog.clear()
    build(guide, s)
    assert narrations == [1]
    assert sum("no `email:`" in r.getMessage() for r in caplog.records) == 1


def test_a_rebuild_that_stops_early_loads_no_publisher(built):
    """The early stop needs no publisher: a fresh process (as `audioguide build` is) imports none of them, nor
    the narration, to say that nothing changed."""
    import subprocess
    import sys

    guide, s, _, out = built
    code = (f"import sys; from audioguide.build import build; from conftest import settings_for; "
            f"from pathlib import Path; s = settings_for(Path({str(s.cache_dir.parent)!r}), engine='silence'); "
            f"r = build({str(guide)!r}, s); assert r.encoded == 0; "
            f"from importlib.metadata import entry_points; "
            f"plugins = tuple(ep.value.split(':')[0] for ep in entry_points(group='audioguide.publishers')); "
            f"print(sorted(m for m in sys.modules if m.startswith(plugins + ('audioguide.narration',))))")
    import audioguide

    # The audioguide this test imports (under script/mutation, the mutated copy), not another installed one:
    # another copy's code fingerprint differs, and the rebuild would rightly not stop early.
    src = Path(audioguide.__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(DATA.parent), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr


GOOD_ENTRY = {"key": "k", "pages": [], "chapters": [{"id": "a"}]}


@pytest.mark.parametrize("state", [
    {"chapters": []}, {"chapters": {"a": "k"}}, {"chapters": {"a": {"key": 1}}},
    {"chapters": {"a": {"key": "k", "pages": {}}}}, {"chapters": {"a": {"key": "k", "chapters": {}}}},
    {"chapters": {"a": {"key": "k", "chapters": ["id"]}}}, {"whole": {"key": None}}, {"whole": []},
    {"inputs": 3}, {"warnings": "no email"}, {"warnings": [1]}])
def test_a_state_file_edited_into_another_shape_is_ignored_with_a_warning(tmp_path, caplog, state):
    """Edited by hand or written by another tool: the build checks everything again and says so, instead of a
    traceback on every build until --clean."""
    from audioguide.build.manifest import read_build_state

    (tmp_path / STATE_FILE).write_text(json.dumps(state), "utf-8")
    with caplog.at_level("WARNING"):
        assert read_build_state(tmp_path) == {}
    assert "is not a build state this version wrote" in caplog.text


def test_a_state_file_of_this_version_is_read(tmp_path, caplog):
    state = {"chapters": {"a": GOOD_ENTRY, "b": {"key": "k2"}}, "whole": GOOD_ENTRY, "inputs": "i",
             "warnings": ["w"]}
    from audioguide.build.manifest import read_build_state

    for s in (state, {k: v for k, v in state.items() if k != "whole"}, {"chapters": {}}):
        (tmp_path / STATE_FILE).write_text(json.dumps(s), "utf-8")
        with caplog.at_level("WARNING"):
            assert read_build_state(tmp_path) == s
    assert caplog.messages == []


def test_a_rebuild_whose_encoder_crashes_names_the_chapter_and_leaves_the_last_output_whole(built, tmp_path,
                                                                                             monkeypatch):
    from test_faults import wrapper

    from audioguide.exceptions import AudioError

    guide, s, manifest, out = built
    before = {p: p.read_bytes() for p in (out / "manifest.json", out / "feed.xml")}
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("Appelez le 15", "Appelez le 112"), "utf-8")
    wrapper(tmp_path / "bin", "ffmpeg", "02-dmp")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(AudioError) as e:
        build(guide, s)
    assert str(e.value).startswith("Chapter dmp (audio/02-dmp.mp3): ")
    assert {p: p.read_bytes() for p in before} == before  # the last feed and manifest, as they were
    assert all((out / c["mp3"]).exists() for c in manifest["chapters"])
