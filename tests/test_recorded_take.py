"""Recorded pages on a tiny guide (one chapter, two recorded pages and a synthetic one), built once: fast enough
for script/mutation to run for every recordings/ mutant, where test_recordings.py builds the mini guide to every
output. Each sentence of a reading is found where the reading says it (ffmpeg's silencedetect on the published
MP3), its caption pieces inside it, in the manifest and the WebVTT file; a take is trimmed, its hesitation cut to
MAX_PAUSE_S and kept under full scale; what a volunteer reads when it goes wrong is in French."""

from __future__ import annotations

import re
import subprocess
import wave

import numpy as np
import pytest
from test_recordings import page_of, reading

from audioguide.audio import measure_loudness
from audioguide.build import build
from audioguide.exceptions import AudioError, ConfigError
from audioguide.guide import load_guide
from audioguide.narration.script import ScriptWriter
from audioguide.recordings.process import MAX_PAUSE_S, process
from audioguide.tts.base import RATE

from conftest import needs_tools, settings_for

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
"""


def texts(guide, page: str) -> list[str]:
    g = load_guide(guide / "guide.yaml")
    ps = next(p for p in ScriptWriter(g).chapter(g.chapters[0]) if p.page.id == page)
    return [s.text for s in ps.segments if s.block is not None]


def silences(path, noise: str = "-45dB", d: float = 0.2) -> list[tuple[float, float]]:
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
    logs = []
    import logging

    class Keep(logging.Handler):
        def emit(self, record):
            logs.append(record.getMessage())

    keep, logger = Keep(logging.INFO), logging.getLogger("audioguide")
    level, logger.level = logger.level, logging.INFO
    logger.addHandler(keep)
    try:
        result = build(guide / "guide.yaml", settings_for(root, jobs=1))
    finally:
        logger.removeHandler(keep)
        logger.level = level
    return result, logs


def body(page: dict) -> list[dict]:
    return [c for c in page["cues"] if c["block"] is not None]


def test_each_recorded_sentence_starts_and_ends_where_its_reading_does(tiny):
    """In the published MP3, each sentence of the reading starts within 0.2 s of the end of a silence and ends
    within 0.3 s of the start of one (its last sound's decay), inside its page; the two short sentences at the first two onsets."""
    result, _ = tiny
    c, p = page_of(result, "carnet", "accueil")
    quiet = silences(result.out_dir / c["mp3"])
    said = max(cue["end"] for cue in p["cues"] if cue["kind"] == "announce")  # the page's title, synthetic
    onsets = [e for s, e in quiet if said <= e <= p["end"]]
    offsets = [s for s, e in quiet if said <= s <= p["end"] + 0.1]
    sentences = [cue for cue in body(p) if not cue["cont"]] + [body(p)[-1]]
    assert len(body(p)) >= 4
    for cue in body(p):
        if cue is body(p)[0] or not body(p)[body(p).index(cue) - 1]["cont"]:  # a sentence's first words
            assert min(abs(cue["start"] - t) for t in onsets) <= 0.2, (cue, onsets)
    for cue in sentences:
        assert min(abs(cue["end"] - t) for t in offsets) <= 0.3, (cue, offsets)
    first, second = body(p)[:2]
    assert abs(first["start"] - onsets[0]) <= 0.2 and abs(second["start"] - onsets[1]) <= 0.2, (body(p), onsets)
    assert abs(first["end"] - offsets[0]) <= 0.3, (first, offsets)


def test_a_one_sentence_reading_is_aligned_and_the_next_page_waits_its_pause(tiny):
    """A page read in one sentence is aligned surely (no page-level sync warning), its sentence spans its
    speech, and the next page's announcement comes after the page's closing pause, as on a synthetic page."""
    result, logs = tiny
    c, p = page_of(result, "carnet", "merci")
    _, after = page_of(result, "carnet", "fin")
    assert not [m for m in logs if "synchronisation par page" in m], logs
    assert "2 pages lues par une voix humaine, 1 par la voix de synthèse." in logs, logs
    (cue,) = body(p)
    quiet = silences(result.out_dir / c["mp3"])
    assert min(abs(cue["start"] - e) for _, e in quiet) <= 0.2 and min(abs(cue["end"] - s) for s, _ in quiet) <= 0.3
    gap = next((s, e) for s, e in quiet if s >= cue["end"] - 0.3)
    pause = gap[1] - gap[0]
    assert pause >= 0.9, (cue, quiet)  # the page pause (a sentence's would be ~0.5 s), before "Fin"
    assert after["start"] >= cue["end"] + 0.9


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
        assert cue["start"] <= times[0] and times[-1] <= cue["end"], (cue, pieces)
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
