"""The spoken frame (where am I, what comes next) and the pace: text tables, level names, and words per
minute measured on real espeak-ng audio with ffmpeg's silence detection."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.audio import WavWriter, silence
from audioguide.cli import cli
from audioguide.config import PACES, BuildSettings
from audioguide.exceptions import ConfigError, GuideError
from audioguide.guide import Level, Levels, after, load_guide
from audioguide.narration.script import PAUSES, ScriptWriter
from audioguide.narration.written import join_sentences
from audioguide.phone.menu import build_menu
from audioguide.tts.base import RATE

DATA = Path(__file__).parent / "data"
ESANTE = Path(__file__).parents[1] / "guides" / "e-sante"


@pytest.fixture(scope="module")
def esante():
    return load_guide(ESANTE)


def announcements(guide, chapter_id: str) -> list[str]:
    # The frame is one clip per sentence (each its own caption): read it whole.
    return [join_sentences(p.segments, spoken=True).splitlines()[0]
            for p in ScriptWriter(guide).chapter(guide.chapter(chapter_id))]


def test_full_position_on_a_chapter_first_page_only(esante):
    said = announcements(esante, "mon-espace-sante")
    assert said[0] == ("Partie deux, Dossier patient. Sujet un : Mon espace santé. "
                       "Page un sur six : qu'est-ce que c'est ?")
    assert said[1].startswith("Page deux : ")
    for text in said[1:]:
        assert "Partie" not in text and "Mon espace santé" not in text and "sur six" not in text
    # The chapter number is its place in its part, as the phone menu numbers it ("tapez 3").
    # The part is said where it begins; the chapters after it in the same part do not repeat it.
    assert announcements(esante, "teleconsultation")[0].startswith("Sujet trois : La téléconsultation. ")
    assert announcements(esante, "dmp")[0].startswith("Sujet deux : ")
    assert announcements(esante, "introduction")[0].startswith("Introduction. Page un sur ")


def test_end_cues_say_fin_du_sujet_and_no_title(esante):
    """The next chapter announces itself straight after; saying its title here too doubled the frame."""
    w = ScriptWriter(esante)

    def end_cue(chapter):
        return " ".join(s.text for s in w.chapter(chapter)[-1].segments if s.kind == "cue")

    assert end_cue(esante.chapter("telemedecine")) == "Fin du sujet."
    assert end_cue(esante.intro) == "Fin de l'introduction."
    assert end_cue(esante.chapters[-1]) == \
        "Fin du sujet. C'est la fin du guide Se repérer dans la e-santé. Merci de votre écoute."
    assert "Fin de :" not in " ".join(end_cue(c) for c in esante.chapters)


def test_no_label_is_said_twice(esante):
    """A page titled "Attention" holding an attention callout: the label is said once, by the title."""
    w = ScriptWriter(esante)
    for ch in esante.chapters:
        for page in w.chapter(ch):
            words = [re.sub(r"\W+", " ", s.text.lower()).strip() for s in page.segments]
            for a, b in zip(words, words[1:]):
                assert not (b and a.endswith(b)), (ch.id, page.page.id, a, b)
    page = w.chapter(esante.chapter("teleconsultation"))
    attention = next(p for p in page if p.page.id == "attention")
    assert [s.kind for s in attention.segments][:2] != ["announce", "callout"]
    assert attention.segments[0].text.endswith(": attention")


@pytest.mark.parametrize("prep, phrase, said", [
    ("de", "le sujet", "du sujet"), ("de", "les pages", "des pages"), ("à", "le sujet", "au sujet"),
    ("à", "les parties", "aux parties"), ("de", "la page", "de la page"), ("de", "l'étape", "de l'étape"),
    ("à", "la", "à la"), ("à", "le", "au"), ("De", "le menu", "Du menu"),
])
def test_contractions(prep, phrase, said):
    assert after(prep, phrase) == said


@pytest.mark.parametrize("level, the, of_the, to_the", [
    (Level("sujet", False), "le sujet", "du sujet", "au sujet"),
    (Level("page", True), "la page", "de la page", "à la page"),
    (Level("étape", True), "l'étape", "de l'étape", "à l'étape"),
    (Level("module", False), "le module", "du module", "au module"),
])
def test_level_names_in_a_sentence(level, the, of_the, to_the):
    assert (level.the, level.of_the, level.to_the) == (the, of_the, to_the)


def write_guide(tmp_path, extra: str) -> Path:
    (tmp_path / "guide.yaml").write_text(f"""id: g
title: Guide
publisher: Test
description: Un guide.
date: 2024-01-01
{extra}
chapters:
  - id: un
    title: Premier
    pages:
      - {{id: a, title: Début, blocks: [p: Un.]}}
      - {{id: b, title: Suite, blocks: [p: Deux.]}}
  - id: deux
    title: Second
    pages:
      - {{id: c, title: Fin, blocks: [p: Trois.]}}
""", "utf-8")
    return tmp_path


def test_level_names_are_declared_once_and_used_everywhere(tmp_path):
    guide = load_guide(write_guide(tmp_path, "levels: {chapter: la fiche, page: module}"))
    assert guide.levels == Levels(chapter=Level("fiche", True), page=Level("module", False))
    w = ScriptWriter(guide)
    pages = w.chapter(guide.chapter("un"))
    assert join_sentences(pages[0].segments, spoken=True).startswith("Fiche un : Premier. Module un sur deux : début")
    assert pages[1].segments[0].text.startswith("Module deux : suite")
    assert pages[-1].segments[-1].text == "Fin de la fiche."
    menu = build_menu(guide)
    assert menu.prompts["chapter-end"].text.startswith("Fin de la fiche. Pour passer à la fiche suivante, tapez 6.")
    assert menu.prompts["first-page"].text == "Vous êtes au début de la fiche."
    keys = menu.prompts["page-keys"].text
    assert "Tapez 6 pour le module suivant, 4 pour le précédent, 5 pour le réécouter" in keys
    assert "6 pour passer au module suivant, 4 pour revenir au précédent" in menu.prompts["welcome"].text


def test_unknown_level_noun_asks_for_its_article(tmp_path):
    with pytest.raises(GuideError) as e:
        load_guide(write_guide(tmp_path, "levels: {chapter: rubriquette}"))
    assert "levels.chapter" in str(e.value) and "with its article" in str(e.value)


def test_parts_or_chapters_one_of_them(tmp_path):
    (tmp_path / "guide.yaml").write_text("title: G\npublisher: P\ndescription: D\ndate: 2024-01-01\n", "utf-8")
    with pytest.raises(GuideError) as e:
        load_guide(tmp_path)
    assert "chapters: the guide has no chapters" in str(e.value) and "two levels" in str(e.value)
    write_guide(tmp_path, "parts: [{id: p, title: P, chapters: [{id: x, title: X, pages: [{id: y, title: Y}]}]}]")
    with pytest.raises(GuideError) as e:
        load_guide(tmp_path)
    assert "both `parts:` and `chapters:`" in str(e.value)


def test_a_one_part_guide_is_heard_like_a_two_level_guide(tmp_path):
    """No "Partie un" on every chapter and no one-choice phone menu."""
    (tmp_path / "guide.yaml").write_text((DATA / "mini" / "guide.yaml").read_text("utf-8"), "utf-8")
    guide = load_guide(tmp_path)
    assert len(guide.parts) == 1
    first = ScriptWriter(guide).chapter(guide.chapter("dmp"))[0].segments[0].text
    assert first.startswith("Sujet un : Le D") and "Partie" not in first
    menu = build_menu(guide)
    assert [i.target for i in menu.nodes["main"].items] == ["chapter-introduction", "chapter-dmp"]


# --- pace ------------------------------------------------------------------------------------------

def test_pace_from_the_guide_the_command_line_and_rate(tmp_path):
    guide = load_guide(write_guide(tmp_path, "pace: lent"))
    assert guide.pace == "lent"
    s = BuildSettings()
    s.apply_guide(guide)
    assert (s.pace, s.rate) == ("lent", PACES["lent"].rate)
    s = BuildSettings(pace="normal")  # the command line wins over the guide
    s.apply_guide(guide)
    assert (s.pace, s.rate) == ("normal", PACES["normal"].rate)
    s = BuildSettings(rate=150)  # an explicit rate wins over the pace's rate, the pauses stay the pace's
    s.apply_guide(guide)
    assert (s.pace, s.rate) == ("lent", 150)
    slow, normal = ScriptWriter(guide, pace="lent"), ScriptWriter(guide, pace="normal")
    assert normal.pauses["sentence"] >= 500 and normal.pauses["item"] > normal.pauses["sentence"]
    assert normal.pauses["page"] > normal.pauses["item"]
    assert all(slow.pauses[k] > normal.pauses[k] for k in PAUSES)


def test_unknown_pace_is_a_clear_error(tmp_path):
    with pytest.raises(GuideError) as e:
        load_guide(write_guide(tmp_path, "pace: lente"))
    assert "pace" in str(e.value) and "did you mean 'lent'" in str(e.value)
    with pytest.raises(ConfigError, match="--pace vite: this pace does not exist"):
        BuildSettings(pace="vite").validate()
    r = CliRunner().invoke(cli, ["build", str(tmp_path), "--pace", "vite"])
    assert r.exit_code == 2 and "lent" in r.output and "Traceback" not in r.output


# Measured on e-santé pages with espeak-ng 1.51 (see README "Audio choices"); the windows leave room
# for other espeak-ng versions but not for the next pace.
WPM_WINDOWS = {"lent": (100, 120), "normal": (120, 140)}


def ffmpeg_silences(wav: Path) -> float:
    proc = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", str(wav), "-af",
                           "silencedetect=noise=-45dB:d=0.2", "-f", "null", "-"], capture_output=True, text=True,
                          check=True)
    return sum(float(x) for x in re.findall(r"silence_duration: ([\d.]+)", proc.stderr))


@pytest.mark.skipif(not shutil.which("espeak-ng") or not shutil.which("ffmpeg"), reason="needs espeak-ng and ffmpeg")
@pytest.mark.parametrize("pace", ["lent", "normal"])
def test_words_per_minute_at_each_pace(esante, pace, tmp_path):
    """Three e-santé pages, spoken by espeak-ng and laid out with the pace's pauses as a build does."""
    from audioguide.tts.espeak import EspeakEngine

    settings = BuildSettings(pace=pace)
    settings.apply_guide(esante)
    engine = EspeakEngine(settings)
    writer = ScriptWriter(esante, pace=pace)
    ch = esante.chapter("mon-espace-sante")
    segments = [s for p in writer.chapter(ch)[:3] for s in p.segments]
    wav = tmp_path / "sample.wav"
    out = WavWriter(wav)
    for i, seg in enumerate(segments):
        clip = tmp_path / f"{i}.wav"
        engine.synthesize(seg.text, clip)
        out.add_clip(clip)
        out.add(silence(seg.pause_ms))
    out.close()
    words = sum(len(re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", s.text)) for s in segments)
    total = out.frames / RATE
    wpm = words / (total / 60)
    low, high = WPM_WINDOWS[pace]
    assert words > 250 and low <= wpm <= high, (pace, words, round(total, 1), round(wpm, 1))
    # The pauses are heard as silences (ffmpeg), and a sentence is followed by half a second or more.
    assert ffmpeg_silences(wav) >= 0.9 * sum(s.pause_ms for s in segments[:-1]) / 1000
    assert min(s.pause_ms for s in segments if s.kind != "callout" and not s.cont) >= 500  # cont: a clause cut


def test_feed_names_seasons_after_parts_with_the_level_names():
    from lxml import etree

    from audioguide.publishers.podcast import build_feed

    levels = {"part": {"noun": "partie", "feminine": True}, "chapter": {"noun": "sujet", "feminine": False},
              "page": {"noun": "page", "feminine": True}}
    parts = [{"id": "a", "number": 1, "title": "Télésanté"}, {"id": "b", "number": 2, "title": "Dossier"}]

    def chapter(n, part):
        return {"id": f"c{n}", "number": n, "title": f"Sujet {n}", "part": part, "mp3": f"audio/{n}.mp3",
                "bytes": 1, "duration": 1.0,
                "pages": [{"title": "Début", "start": 0.0}, {"title": "Suite", "start": 0.5}],
                "transcript": {"txt": "t.txt", "srt": "t.srt", "vtt": "t.vtt"}, "chapters_json": "c.json"}

    manifest = {"guide": {"id": "g", "title": "G", "description": "D", "publisher": "P", "date": "2024-01-01",
                          "levels": levels, "parts": parts, "intro": "c1"},
                "cover": "cover.jpg", "chapters": [chapter(1, None), chapter(2, parts[0]), chapter(3, parts[1])]}
    ns = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}
    items = etree.fromstring(build_feed(manifest, "http://x/")).findall("channel/item")
    assert [i.findtext("itunes:episodeType", namespaces=ns) for i in items] == ["full", "full", "full"]
    season = items[2].find("podcast:season", ns)
    assert (season.text, season.get("name")) == ("2", "Dossier")
    assert items[2].find("itunes:season", ns) is None  # Apple would open a serial show on the last part
    assert items[2].findtext("description") == "Partie 2 : Dossier — Sujet 3. Pages : Début ; Suite."
    assert items[0].find("itunes:season", ns) is None
