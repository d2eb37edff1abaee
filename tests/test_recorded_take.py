"""Recorded pages on a tiny guide (one chapter, two recorded pages and a synthetic one), built once: fast enough
for script/mutation to run for every recordings/ mutant, where test_recordings.py builds the mini guide to every
output. Each sentence of a reading is found where the reading says it (ffmpeg's silencedetect on the published
MP3), its caption pieces inside it, in the manifest and the WebVTT file; a take is trimmed, its hesitation cut to
MAX_PAUSE_S and kept under full scale; what a volunteer reads when it goes wrong (a clipped, noisy, unreadable
take, `check`'s list) is in French and names the page."""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from test_recordings import body_texts, page_of, reading

from audioguide.audio import measure_loudness
from audioguide.build import build
from audioguide.exceptions import AudioError, ConfigError
from audioguide.guide import load_guide
from audioguide.i18n import set_language
from audioguide.narration.script import ScriptWriter
from audioguide.recordings.align import speech_edges
from audioguide.recordings.process import MAX_PAUSE_S, process
from audioguide.tts.base import RATE

from conftest import DATA, needs_tools, settings_for

pytestmark = [needs_tools, pytest.mark.e2e]
pytest.importorskip("librosa")

LONG = ("Le DMP est un carnet de santé numérique, gratuit et confidentiel, qui garde vos ordonnances, vos "
        "comptes-rendus d'hospitalisation et vos résultats d'analyses au même endroit.")
GUIDE = f"""id: prise
title: Essai de lecture
publisher: Association Test
language: fr-FR
description: Un guide minuscule lu en partie par une voix humaine.
date: 2024-03-01
chapters:
  - id: carnet
    title: Le carnet
    pages:
      - id: accueil
        title: Accueil
        blocks:
          - p: Bonjour à vous. Ce guide parle du carnet. {LONG}
      - id: merci
        title: Merci
        blocks:
          - p: Merci de votre écoute attentive.
      - id: fin
        title: Fin
        blocks:
          - p: Au revoir.
  - id: rappel
    title: Rappel
    pages:
      - id: garder
        title: Le garder
        blocks:
          - p: Gardez ce carnet avec vous. Montrez-le à votre médecin traitant.
"""
OTHER = ["La pharmacie de garde est ouverte le dimanche matin.", "Les enfants sont reçus sans attendre."]


def texts(guide, page: str) -> list[str]:
    g = load_guide(guide / "guide.yaml")
    ps = next(p for p in ScriptWriter(g).chapter(g.chapters[0]) if p.page.id == page)
    return [s.text for s in ps.segments if s.block is not None]


def silences(path, noise: str = "-40dB", d: float = 0.2) -> list[tuple[float, float]]:
    """(start, end) of each silence ffmpeg finds in a sound file; an open one ends at infinity."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
                          f"silencedetect=noise={noise}:d={d}", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    starts = [float(x) for x in re.findall(r"silence_start: (-?[\d.]+)", err)]
    ends = [float(x) for x in re.findall(r"silence_end: ([\d.]+)", err)]
    return list(zip(starts, ends + [float("inf")] * (len(starts) - len(ends))))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("take")
    guide = root / "prise"
    guide.mkdir()
    (guide / "guide.yaml").write_text(GUIDE, "utf-8")
    reading(texts(guide, "accueil"), guide / "recordings" / "carnet" / "accueil.flac")
    reading(texts(guide, "merci"), guide / "recordings" / "carnet" / "merci.wav", hesitate_s=0.6)
    reading(OTHER, guide / "recordings" / "rappel" / "garder.wav", hesitate_s=0.6)  # the wrong file
    logs = []
    import logging

    class Keep(logging.Handler):
        def emit(self, record):
            logs.append(record.getMessage())

    keep, logger = Keep(logging.INFO), logging.getLogger("audioguide")
    level, logger.level = logger.level, logging.INFO
    logger.addHandler(keep)
    set_language("fr")  # what a volunteer reads (a module fixture runs before the tests' own language is set)
    try:
        result = build(guide / "guide.yaml", settings_for(root, jobs=1))
    finally:
        set_language()
        logger.removeHandler(keep)
        logger.level = level
    return result, logs


def body(page: dict) -> list[dict]:
    return [c for c in page["cues"] if c["block"] is not None]


def test_each_recorded_sentence_starts_and_ends_where_its_reading_does(tiny):
    """In the published MP3, each sentence of the reading starts within 0.2 s of the end of a silence and ends
    within 0.3 s of the start of one (its last sound's decay), inside its page; the two short sentences at the
    reading's first two onsets."""
    result, _ = tiny
    c, p = page_of(result, "carnet", "accueil")
    quiet = silences(result.out_dir / c["mp3"])
    said = max(cue["end"] for cue in p["cues"] if cue["kind"] == "announce")  # the page's title, synthetic
    onsets = [e for s, e in quiet if said <= e <= p["end"]]
    offsets = [s for s, e in quiet if said <= s <= p["end"] + 0.1]
    cues = body(p)
    assert len(cues) >= 4  # two short sentences, and a long one said in clauses (the reader pauses at commas)
    near = [min(onsets, key=lambda t: abs(cue["start"] - t)) for cue in cues]
    assert all(abs(cue["start"] - t) <= 0.2 for cue, t in zip(cues, near)) and near == sorted(set(near)), (cues, onsets)
    for cue in cues:
        assert min(abs(cue["end"] - t) for t in offsets) <= 0.3, (cue, offsets)
    first, second = cues[:2]
    assert abs(first["start"] - onsets[0]) <= 0.2 and abs(second["start"] - onsets[1]) <= 0.2, (cues, onsets)
    assert abs(first["end"] - offsets[0]) <= 0.3, (first, offsets)


def test_a_one_sentence_reading_is_aligned_and_the_next_page_waits_its_pause(tiny):
    """A page read in one sentence is aligned surely (no page-level sync warning), its sentence spans its
    speech, and the next page's announcement comes after the page's closing pause, as on a synthetic page."""
    result, logs = tiny
    c, p = page_of(result, "carnet", "merci")
    _, after = page_of(result, "carnet", "fin")
    assert [m for m in logs if "synchronisation par page" in m and "carnet/merci" in m] == [], logs
    assert "3 pages lues par une voix humaine, 1 par la voix de synthèse." in logs, logs
    (cue,) = body(p)
    quiet = silences(result.out_dir / c["mp3"])
    assert min(abs(cue["start"] - e) for _, e in quiet) <= 0.2 and min(abs(cue["end"] - s) for s, _ in quiet) <= 0.3
    start, end = next((s, e) for s, e in quiet if s >= cue["end"] - 0.3)
    assert end - start >= 0.9, (cue, quiet)  # the page's closing pause (a sentence's is shorter), before "Fin"
    assert after["start"] >= cue["end"] + 0.9


@pytest.mark.french
def test_a_reading_of_other_words_is_placed_by_page_and_said_so(tiny):
    """The wrong file on a page: the only page-level sync warning names it (the right readings are aligned),
    and its sentences are spread over the reading in order, within the page."""
    result, logs = tiny
    warned = [m for m in logs if "synchronisation par page" in m]
    assert len(warned) == 1 and warned[0].startswith("Page rappel/garder : l'enregistrement garder.wav "), logs
    assert warned[0].endswith("qu'il lit tout le texte."), warned[0]
    _, p = page_of(result, "rappel", "garder")
    cues = body(p)
    assert len(cues) == 2 and p["start"] < cues[0]["start"] < cues[0]["end"] <= cues[1]["start"] < cues[1]["end"]
    assert cues[-1]["end"] <= p["end"]


def test_caption_pieces_of_a_long_recorded_sentence_sit_in_it_and_in_the_webvtt(tiny):
    result, _ = tiny
    c, p = page_of(result, "carnet", "accueil")
    cut = [cue for cue in body(p) if "captions" in cue]
    assert cut, body(p)
    vtt = (result.out_dir / c["transcript"]["vtt"]).read_text("utf-8")
    for cue in cut:
        pieces = cue["captions"]
        times = [t for x in pieces for t in (x["start"], x["end"])]
        assert all(isinstance(t, float) and t == round(t, 3) for t in times), times
        # the pieces tile their sentence: shown from its first word to its last, each after the one before
        assert times[0] == cue["start"] and times[-1] == cue["end"], (cue, pieces)
        assert all(a["end"] == b["start"] for a, b in zip(pieces, pieces[1:])), pieces
        assert times == sorted(times) and all(x["end"] > x["start"] for x in pieces), pieces
        for x in pieces:
            for t in (x["start"], x["end"]):
                h, m, s = divmod(t, 3600)[0], *divmod(t % 3600, 60)
                assert f"{int(h):02d}:{int(m):02d}:{s:06.3f}" in vtt, (t, vtt)
    spread = [x for cue in cut for x in cue["captions"]]
    assert len(spread) >= 2 and spread[-1]["start"] > spread[0]["end"] - 0.001


@pytest.fixture(scope="module")
def take(tmp_path_factory):
    root = tmp_path_factory.mktemp("one")
    rec = root / "prise.flac"
    reading(["Bonjour à vous.", "Ce guide parle du carnet."], rec, hesitate_s=3.0)
    return rec


def test_a_take_is_trimmed_and_its_hesitation_cut_to_the_longest_pause(take, tmp_path):
    y = process(take, "carnet/accueil", -20.0, tmp_path).audio
    wav = tmp_path / "done.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(np.round(y * 32767).astype("<i2").tobytes())
    quiet = silences(wav, "-50dB", 0.1)
    inner = [(s, e) for s, e in quiet if s > 0.05 and e < len(y) / RATE - 0.05]
    assert not [q for q in quiet if q[0] <= 0.01 and q[1] > 0.15], quiet  # the second of room before, trimmed
    assert len(inner) == 1, quiet
    s, e = inner[0]
    assert MAX_PAUSE_S - 0.2 <= e - s <= MAX_PAUSE_S + 0.05, quiet  # the 3 s hesitation, kept at MAX_PAUSE_S


def test_a_take_brought_up_to_a_loud_page_stays_under_full_scale(take, tmp_path):
    y = process(take, "carnet/accueil", -8.0, tmp_path).audio
    assert 0.96 <= float(np.max(np.abs(y))) <= 0.97 + 1e-9  # the chapter's limiter does the rest


def test_a_take_is_brought_to_the_loudness_of_the_page_it_replaces(take, tmp_path):
    y = process(take, "carnet/accueil", -23.0, tmp_path).audio
    wav = tmp_path / "done.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(np.round(y * 32767).astype("<i2").tobytes())
    assert abs(measure_loudness(wav)[0] + 23.0) <= 0.5


@pytest.mark.french
def test_a_take_too_short_to_hold_a_word_is_refused_in_french(tmp_path):
    rec = tmp_path / "vide.wav"
    with wave.open(str(rec), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(b"\0\0" * (RATE // 5))
    with pytest.raises(AudioError) as exc:
        process(rec, "carnet/accueil", -20.0, tmp_path)
    assert exc.value.message == (f"Page carnet/accueil : l'enregistrement {rec} ne peut pas être lu "
                                 "(moins d’une demi-seconde de son)."), exc.value.message
    assert "enregistrez" in exc.value.fix.lower() or "enregistr" in exc.value.fix, exc.value.fix


@pytest.mark.french
def test_without_the_voice_extra_the_message_is_french_and_names_the_module(monkeypatch):
    import sys

    from audioguide.recordings import require

    monkeypatch.setitem(sys.modules, "librosa", None)
    with pytest.raises(ConfigError) as exc:
        require()
    assert exc.value.message == ("Le guide a des pages enregistrées (dossier recordings/), mais librosa n'est pas "
                                 "installé.")


# --- a take processed, checked and refused (from test_recordings.py, whose builds are slower) ----------------

@pytest.mark.french
def test_a_clipped_recording_is_warned_about_by_page(tmp_path, mini_guide):
    texts = body_texts(mini_guide, "dmp", "attention")
    loud, fine = tmp_path / "loud.wav", tmp_path / "fine.wav"
    reading(texts, loud, gain=6.0)  # driven far past full scale: the 16-bit file clips
    reading(texts, fine)
    warned = process(loud, "dmp/attention", -20.0, tmp_path).warnings
    assert any("Page dmp/attention" in w and "sature" in w for w in warned), warned
    assert process(fine, "dmp/attention", -20.0, tmp_path).warnings == []


@pytest.mark.french
def test_a_noisy_recording_is_warned_about_by_page(tmp_path, mini_guide):
    rec = tmp_path / "noisy.wav"
    reading(body_texts(mini_guide, "dmp", "attention"), rec)
    noisy = tmp_path / "noisy2.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(rec), "-filter_complex",
                    "anoisesrc=a=0.05:c=pink:seed=3:r=44100[n];[0][n]amix=inputs=2:duration=first:normalize=0",
                    str(noisy)], check=True)
    warned = process(noisy, "dmp/attention", -20.0, tmp_path).warnings
    assert any("Page dmp/attention" in w and "bruit" in w for w in warned), warned


def test_processing_trims_the_room_and_shortens_the_hesitation(tmp_path, mini_guide):
    rec = tmp_path / "take.flac"
    reading(body_texts(mini_guide, "dmp", "quest-ce-que-cest"), rec)
    y = process(rec, "dmp/quest-ce-que-cest", -20.0, tmp_path).audio
    on, off = speech_edges(y.astype(np.float32), RATE, min_pause_s=0.3)
    assert on[0] <= 0.1 and len(y) / RATE - off[-1] <= 0.2  # a second of room each side, trimmed
    assert max(b - a for a, b in zip(off, on[1:])) <= MAX_PAUSE_S + 0.05  # the 3 s hesitation, shortened


@pytest.mark.french
def test_an_unreadable_recording_stops_the_build_naming_the_page(tmp_path):
    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    bad = guide / "recordings" / "dmp" / "attention.wav"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt not really a recording")
    s = settings_for(tmp_path)
    with pytest.raises(AudioError) as exc:
        build(guide / "guide.yaml", s)
    assert "Page dmp/attention" in exc.value.message and "ne peut pas être lu" in exc.value.message
    assert exc.value.fix
    out = Path(s.out_dir)
    published = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not [p for p in published if p.suffix in (".mp3", ".json", ".xml", ".html", ".epub", ".zip")], published


@pytest.mark.french
def test_check_lists_recorded_pages_and_warns_of_a_length_far_from_the_text(tmp_path):
    from click.testing import CliRunner

    from audioguide.cli import cli

    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    rec = guide / "recordings"
    reading(body_texts(guide, "introduction", "bienvenue"), rec / "introduction" / "bienvenue.wav")
    long = body_texts(guide, "dmp", "quest-ce-que-cest") + body_texts(guide, "introduction", "bienvenue")
    reading(long * 2, rec / "dmp" / "attention.ogg", hesitate_s=0.6)  # the wrong text: far longer than the page's
    reading(["Bonjour."], rec / "dmp" / "atention.wav")  # a misspelt page id
    out = CliRunner().invoke(cli, ["check", str(guide / "guide.yaml")])
    assert out.exit_code == 0, out.output
    assert "Pages lues par une voix humaine (2) : introduction/bienvenue, dmp/attention." in out.output
    assert "Pages en voix de synthèse (1) : dmp/quest-ce-que-cest." in out.output
    warned = [line for line in out.output.splitlines() if line.startswith("Attention")]
    assert len(warned) == 2, out.output
    assert "page dmp/attention" in warned[0] and "recordings/dmp/attention.ogg" in warned[0]
    assert "recordings/dmp/atention.wav ne correspond à aucune page" in warned[1]


@pytest.mark.french
def test_check_names_an_unreadable_recording_as_an_error_and_goes_on(tmp_path):
    from click.testing import CliRunner

    from audioguide.cli import cli

    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    bad = guide / "recordings" / "dmp" / "attention.wav"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt not really a recording")
    out = CliRunner().invoke(cli, ["check", str(guide / "guide.yaml")])
    assert "Pages lues par une voix humaine (1) : dmp/attention." in out.output
    errors = [line for line in out.output.splitlines() if line.startswith("Erreur : ")]
    assert len(errors) == 1 and "Page dmp/attention" in errors[0] and "ne peut pas être lu" in errors[0], out.output


def test_check_says_nothing_of_recordings_for_a_guide_without_them(tmp_path):
    from click.testing import CliRunner

    from audioguide.cli import cli

    out = CliRunner().invoke(cli, ["check", str(DATA / "mini" / "guide.yaml")])
    assert out.exit_code == 0 and "voix" not in out.output, out.output


def test_without_the_voice_extra_a_recorded_guide_says_what_to_install(monkeypatch):
    import sys

    from audioguide.exceptions import ConfigError
    from audioguide.recordings import require

    monkeypatch.setitem(sys.modules, "librosa", None)  # as if not installed: importing it raises ImportError
    with pytest.raises(ConfigError) as exc:
        require()
    assert "librosa" in exc.value.message and "audioguide[voice]" in exc.value.fix


def test_a_take_keeps_its_short_lead_before_the_first_word_not_a_rustle_of_the_room(tmp_path):
    """A room at -60 dBFS with a rustle 10 dB over it, then the voice (a steady tone at -23 dBFS) from a frame
    boundary: the processed take starts LEAD_S (50 ms) before the voice, to the 10 ms frame; the rustle, far under
    the voice, is trimmed with the room."""
    from audioguide.recordings.process import LEAD_S

    rng = np.random.default_rng(1)
    y = rng.normal(0, 1e-3, 3 * RATE)
    y[int(0.4 * RATE):int(0.5 * RATE)] *= 3.2  # the rustle: +10 dB for 100 ms
    start = 101 * 220  # the voice from the 101st 10 ms frame of 220 samples
    t = np.arange(RATE) / RATE
    y[start:start + RATE] += 0.1 * np.sin(2 * np.pi * 1000 * t)
    rec = tmp_path / "prise.wav"
    with wave.open(str(rec), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(np.round(y * 32767).astype("<i2").tobytes())
    out = process(rec, "carnet/accueil", -20.0, tmp_path).audio
    onset = int(np.argmax(np.abs(out) > 0.5 * np.max(np.abs(out)))) / RATE
    assert abs(onset - LEAD_S) <= 0.005, onset
    assert abs(len(out) / RATE - (LEAD_S + 1.0 + 0.15)) <= 0.02, len(out) / RATE  # the voice and its tail


def test_a_build_to_another_folder_takes_the_prepared_recordings_from_the_cache_the_same(tiny):
    result, _ = tiny
    root = result.out_dir.parent
    before = {p.name: p.read_bytes() for p in (root / "out" / "audio").glob("*.mp3")}
    assert before
    again = build(root / "prise" / "guide.yaml", settings_for(root, jobs=1, out_dir=root / "ailleurs"))
    assert again.manifest["chapters"] == result.manifest["chapters"]
    assert {p.name: p.read_bytes() for p in (root / "ailleurs" / "audio").glob("*.mp3")} == before
