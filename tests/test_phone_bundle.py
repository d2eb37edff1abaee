"""The phone bundle on disk: what a rebuild re-exports, what it removes, and the install notes. A silent build:
ffmpeg still cuts, levels and encodes every telephony file."""

import json
import shutil
import wave
from pathlib import Path

import pytest
from phone_builds import phone_build

from audioguide.build import build
from audioguide.phone.audio import FORMATS
from audioguide.phone.menu import MAX_TIMEOUTS, SEGMENT_MAX_S, PhoneMenu
from audioguide.publishers.phone import STATE, page_spans

from conftest import DATA, needs_tools, settings_for

pytestmark = [needs_tools]


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phone-bundle")
    shutil.copytree(DATA / "mini", tmp / "mini")
    return tmp, phone_build(tmp / "mini", tmp, engine="silence")


@pytest.fixture
def copy(first, tmp_path):
    src, result = first
    for d in ("mini", "out", "cache"):
        shutil.copytree(src / d, tmp_path / d)
    return tmp_path / "mini", settings_for(tmp_path, engine="silence"), tmp_path / "out", result


def test_every_prompt_and_page_is_exported_once_in_every_format(first):
    _, result = first
    phone = result.out_dir / "phone"
    prompts = json.loads((phone / "menu.json").read_text())["prompts"]
    names = {f.name for f in (phone / "sounds").iterdir()}
    assert names == {f"{p['id']}.{e}" for p in prompts for e in FORMATS}
    said = {p["id"] for p in prompts if p["kind"] == "prompt"}  # menus and messages; pages are cut from chapters
    assert len(said) > 3 and len(prompts) == len(said) + 3  # and the 3 pages
    assert set(json.loads((phone / STATE).read_text())) == {"introduction", "dmp"} | said
    assert result.phone_encoded == 2 + len(said)  # each chapter's pages in one job, each prompt in one
    assert {phone / n for n in ("menu.json", "extensions.conf", "guide.vxml", "README.md")} <= set(result.files)


def test_an_unchanged_rebuild_exports_nothing(copy):
    guide, s, out, result = copy
    before = {f.name: f.stat().st_mtime_ns for f in (out / "phone" / "sounds").iterdir()}
    again = build(guide, s)
    assert again.phone_encoded == 0
    assert {f.name: f.stat().st_mtime_ns for f in (out / "phone" / "sounds").iterdir()} == before


@pytest.mark.parametrize("lost", ["02-dmp-p02.ulaw", "menu-main.g722"])
def test_a_missing_sound_is_exported_again(copy, lost):
    guide, s, out, result = copy
    f = out / "phone" / "sounds" / lost
    good = f.read_bytes()
    f.unlink()
    again = build(guide, s)
    assert again.phone_encoded == 1 and f.read_bytes() == good


def test_sounds_nobody_plays_are_removed_and_nobody_elses_are(copy):
    """A sound an earlier build wrote and recorded goes once nothing plays it; a file no build recorded stays."""
    guide, s, out, result = copy
    sounds = out / "phone" / "sounds"
    old = sounds / "02-dmp-p01.wav"
    assert old.exists()
    (sounds / "old-prompt.wav").write_bytes(b"RIFF")  # the user's, not ours
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("- id: dmp", "- id: dossier"), "utf-8")
    s.allow_foreign_files = True
    for _ in range(2):  # a reader of the previous feed keeps its files for one build
        build(guide, s)
    assert not old.exists() and (sounds / "02-dossier-p01.wav").exists()
    assert (sounds / "old-prompt.wav").read_bytes() == b"RIFF"


def test_an_edited_page_re_exports_its_chapter_only(copy):
    guide, s, out, result = copy
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("Appelez le 15", "Appelez le 112"), "utf-8")
    assert build(guide, s).phone_encoded == 1


def test_each_chapter_is_measured_once_for_its_mp3_and_its_phone_pages(tmp_path, monkeypatch):
    # A meter pass over the chapter costs ~1 s of CPU per 15 min of audio: the phone reuses the MP3's.
    from audioguide import audio

    measured = []

    def counting(path, *args, **kw):
        measured.append(Path(path).name)
        return real(path, *args, **kw)

    real = audio._wav_pcm  # what the meter reads a WAV with (the limiter's pass reads ffmpeg's output)
    monkeypatch.setattr(audio, "_wav_pcm", counting)
    result = build(DATA / "mini", settings_for(tmp_path, engine="silence"))
    assert result.phone_encoded > 2  # the chapters' pages were cut, from chapters measured here
    assert measured.count("chapter.wav") == len(result.manifest["chapters"]) == 2


def test_the_readme_says_how_to_install_this_guide(first):
    _, result = first
    readme = (result.out_dir / "phone" / "README.md").read_text()
    minutes = round(sum(c["duration"] for c in result.manifest["chapters"]) / 60)
    assert readme.startswith("# Ligne téléphonique pour « Guide d'essai & <test> »\n")
    assert f"les appelants écoutent le guide\n({minutes} minute{'s' * (minutes > 1)})" in readme
    assert f"un menu est joué {MAX_TIMEOUTS + 1} fois, puis l'appel se termine poliment" in readme
    assert "sudo cp sounds/* /var/lib/asterisk/sounds/fr/audioguide/mini/" in readme  # a source install's
    assert "sudo cp extensions.conf /etc/asterisk/audioguide-mini.conf" in readme
    assert "echo '#include \"audioguide-mini.conf\"' | sudo tee -a /etc/asterisk/extensions.conf" in readme
    assert "audioguide phone output/mini --keys" in readme
    assert "- Pendant une page : 6 page suivante, 4 page précédente," in readme and "partie suivante" not in readme
    assert "- À la fin d'un sujet : 6 le sujet suivant" in readme
    conf = (result.out_dir / "phone" / "extensions.conf").read_text()
    ctx = readme.split("en commençant par `[", 1)[1].split("]`", 1)[0]
    assert f"[{ctx}]" in conf and f"exten => 100,1,Goto({ctx},s,1)" in readme


def test_a_changed_menu_label_re_exports_the_prompts_that_say_it(copy):
    guide, s, out, result = copy
    main = out / "phone" / "sounds" / "menu-main.wav"
    before = main.read_bytes()
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("title: Le DMP", "title: Le dossier médical"), "utf-8")
    again = build(guide, s)
    # One part: the main menu lists the chapters and says their names; the chapter's pages say it too.
    assert again.phone_encoded >= 2 and main.read_bytes() != before


def test_a_long_page_is_cut_into_segments_that_play_as_the_page(tmp_path):
    """A page of about a minute is cut between sentences into segments of at most about SEGMENT_MAX_S, so help
    or a wrong key replays at most that much; played in a row, the segments are the page's audio."""
    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    sentences = " ".join(f"Voici la phrase numéro {i} de cette longue page, dite sans se presser." for i in range(18))
    with (guide / "guide.yaml").open("a", encoding="utf-8") as f:
        f.write(f"          - id: longue\n            title: Une longue page\n            blocks:\n"
                f"              - p: {sentences}\n")
    result = phone_build(guide, tmp_path, engine="silence")
    phone = result.out_dir / "phone"
    menu = PhoneMenu.from_json((phone / "menu.json").read_text())
    page = menu.nodes["chapter-dmp"].pages[2]
    assert page[:2] == ["02-dmp-p03", "02-dmp-p03-2"] and len(page) >= 3
    seconds = []
    for sid in page:
        for ext in FORMATS:
            assert (phone / "sounds" / f"{sid}.{ext}").stat().st_size > 1000, (sid, ext)
        with wave.open(str(phone / "sounds" / f"{sid}.wav")) as w:
            seconds.append(w.getnframes() / w.getframerate())
    assert max(seconds) <= SEGMENT_MAX_S + 1.5, seconds
    start, end = page_spans(next(c for c in result.manifest["chapters"] if c["id"] == "dmp"))[2]
    assert sum(seconds) == pytest.approx(end - start, abs=0.01 * len(page))
    conf = (phone / "extensions.conf").read_text()
    assert all(f"Background(audioguide/mini/{sid})" in conf for sid in page)
    # Each segment's text is its sentences, in order, and together they are the page.
    said = [menu.prompts[sid].text for sid in page]
    assert all(t.rstrip().endswith(".") for t in said) and "dite sans se presser" in said[-1]


def test_the_manifest_points_at_the_phone_bundle_s_files(first):
    """manifest.json tells a host where the phone bundle is: every path it gives is there."""
    _, result = first
    entry = json.loads((result.out_dir / "manifest.json").read_text("utf-8"))["phone"]
    assert set(entry) == {"menu", "asterisk", "voicexml", "readme", "sounds"}
    assert all((result.out_dir / path).exists() for path in entry.values()), entry
    assert (result.out_dir / entry["sounds"]).is_dir() and (result.out_dir / entry["asterisk"]).suffix == ".conf"


def test_lost_phone_pages_are_cut_again_from_unchanged_chapters_then_left_alone(copy):
    """Every page sound gone, the MP3s unchanged: one export per chapter brings them back; after an edit, the
    next build finds everything else (the prompts too) up to date."""
    guide, s, out, result = copy
    pages = [f for f in (out / "phone" / "sounds").iterdir() if f.name.startswith(("01-", "02-"))]
    assert {f.name.split("-p")[0] for f in pages} == {"01-introduction", "02-dmp"}
    for f in pages:
        f.unlink()
    again = build(guide, s)
    assert again.encoded == 0 and again.phone_encoded == 2
    assert all(f.exists() for f in pages)
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("Appelez le 15", "Appelez le 112"), "utf-8")
    assert build(guide, s).phone_encoded == 1
