"""A sentence is one intonation unit: split at real sentence ends only (not after "M." or "art."), cut into
clips only at its clause punctuation; `narrate` prints the sentences the build speaks."""

import csv
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.config import BuildSettings
from audioguide.guide import load_guide
from audioguide.narration.script import ScriptWriter
from audioguide.narration.written import join_sentences, split_sentences
from audioguide.tts.espeak import EspeakEngine

from conftest import DATA, ESANTE, needs_tools

# Written blind (by someone who had not read the rule), from the class description alone: sentences with
# dotted abbreviations inside; `expected` is how many sentences a reader hears.
ABBREV = DATA / "abbrev_sentence_end.tsv"


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t")]


@pytest.fixture(scope="module")
def writer():
    return ScriptWriter(load_guide(DATA / "mini"))


@pytest.mark.parametrize("row", _rows(ABBREV), ids=lambda r: r["written"][:40])
def test_abbreviations_do_not_end_a_sentence(writer, row):
    said = join_sentences(writer._para(row["written"]), spoken=True).splitlines()
    assert len(said) == int(row["expected"]), said
    assert len(split_sentences(row["written"])) == int(row["expected"])


def test_the_president_is_one_sentence(writer):
    segs = writer._para("Le président, M. Leroux, ouvrira la séance.")
    assert len(join_sentences(segs).splitlines()) == 1
    assert not any(s.written == "M." for s in segs)


def test_no_clip_ends_mid_phrase_on_esante():
    """A clip that leaves its sentence unfinished ends at clause punctuation (, ; : ) or before ( – —);
    a clause longer than a caption stays one clip, with several captions."""
    guide = load_guide(ESANTE)
    w = ScriptWriter(guide)
    segs = [s for ch in guide.chapters for p in w.chapter(ch) for s in p.segments]
    cuts = [(a.written, b.written) for a, b in zip(segs, segs[1:]) if a.cont]
    assert len(cuts) > 150
    bad = [(a, b) for a, b in cuts if a[-1:] not in ",;:.!?…)" and b[:1] not in "(–—"]
    assert bad == []
    assert sum(1 for s in segs if s.cuts) > 50  # long clauses: one clip, several captions
    for s in segs:  # the captions of a clip are its words, each said as the build says it
        assert " ".join(c for c, _ in s.captions()) == s.written
        assert " ".join(t for _, t in s.captions()).rstrip(",.") == s.text.rstrip(",.")


def test_no_caption_is_cut_inside_a_number_or_a_date(writer):
    segs = writer._para("Le rendez-vous de contrôle aura lieu le mardi 15 octobre 2024 à 8 h 30 au centre de "
                        "santé municipal, et la participation restante est de 65 % du tarif de 25 € prévu.")
    for s in segs:
        for written, _ in s.captions():
            assert not written.startswith(("octobre", "2024", "h", "30", "%", "€")), [c for c, _ in s.captions()]


def test_narrate_prints_the_sentences_the_build_speaks():
    guide = load_guide(ESANTE)
    w = ScriptWriter(guide)
    ch = guide.chapters[1]
    out = CliRunner().invoke(cli, ["narrate", str(ESANTE), "--chapter", ch.id])
    assert out.exit_code == 0, out.output
    built = [join_sentences(p.segments, spoken=True) for p in w.chapter(ch)]
    printed = [block.split("\n", 1)[1].strip() for block in out.output.strip().split("\n\n")]
    assert printed == built


def test_narrate_stdin_splits_sentences_as_the_build_does():
    out = CliRunner().invoke(cli, ["narrate", "-"], input="Le président, M. Leroux, ouvrira la séance. Merci.\n")
    assert out.exit_code == 0, out.output
    assert out.output.strip().splitlines() == ["Le président, monsieur Leroux, ouvrira la séance.", "Merci."]


def test_a_caption_inside_a_clip_starts_at_its_first_word_as_the_engine_got_it():
    """The engine gets the voice-only forms ("[[…]]" phonemes): each caption still starts at its own word."""
    from audioguide.narration.captions import caption_times
    from audioguide.narration.script import Segment

    seg = Segment("Les patients fiables pensées par tous.", 0, written="Les patients fiables pensées par tous.",
                  cuts=[[21, 21]])
    voiced = "Les patients fiables [[_:_:pA~s'e]] par tous."  # a word the lexicon says after a pause
    assert voiced[23] == "_" and voiced[36:39] == "par"
    words = [[0, 0.0], [4, 0.2], [13, 0.6], [23, 1.0], [36, 1.4], [40, 1.6]]
    caps = caption_times(seg, voiced, words, origin=10.0, start=10.05, end=12.0)
    assert caps == [{"start": 10.05, "end": 11.0, "written": "Les patients fiables"},
                    {"start": 11.0, "end": 12.0, "written": "pensées par tous."}]


def test_every_clip_that_leaves_its_sentence_unfinished_ends_on_a_comma():
    """The engine rises only on a clause mark: a clip cut before "(" or after ")" had none, and a spelled
    acronym's dot ("la H.A.S.,") reads as a full stop even with a comma after it."""
    guide = load_guide(ESANTE)
    w = ScriptWriter(guide)
    cont = [s.text for ch in guide.chapters for p in w.chapter(ch) for s in p.segments
            if s.cont and s.kind == "sentence"]
    assert len(cont) > 150
    assert [t for t in cont if t[-1:] not in ",;:" or re.search(r"[A-ZÀ-Ý]\.[,;:]$", t)] == []


def _final_f0(wav: Path) -> float:
    """Median pitch (Hz) of the last voiced 40 ms frames before the clip's end, by autocorrelation."""
    with wave.open(str(wav)) as f:
        sr, x = f.getframerate(), np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(float)
    x = x[:np.nonzero(np.abs(x) > 500)[0][-1] + 1]
    n, hop, f0 = int(0.04 * sr), int(0.01 * sr), []
    for s in range(max(0, len(x) - int(0.4 * sr)), len(x) - n, hop):
        frame = x[s:s + n] - x[s:s + n].mean()
        if np.sqrt((frame ** 2).mean()) < 300:
            continue
        ac = np.correlate(frame, frame, "full")[n - 1:]
        lo, hi = sr // 300, sr // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            f0.append(sr / lag)
    return float(np.median(f0[-8:]))


@needs_tools
@pytest.mark.parametrize("written", [
    "Les pédiatres, psychiatres et neuropsychiatres (avec un accès direct possible)",
    "La décision revient au médecin (selon la situation du patient), qui choisit l'outil",
    "La liste des actes est fixée par la HAS, après avis des sociétés savantes",
])
def test_a_clip_cut_at_a_bracket_or_after_an_acronym_rises_as_at_a_comma(tmp_path, written):
    """Measured on real espeak-ng audio: the first clip of a cut sentence ends high, like a comma piece, and
    not with the fall of a sentence end (about 84 Hz against 101 Hz for this voice)."""
    w = ScriptWriter(load_guide(DATA / "mini"))
    first = w._para(written + " et la suite de la phrase qui continue encore un peu pour ne pas tenir sur deux "
                    "lignes de sous-titres.")[0]
    assert first.cont
    engine = EspeakEngine(BuildSettings())
    engine.synthesize(first.text, tmp_path / "cut.wav")
    engine.synthesize(first.text.rstrip(",") + ".", tmp_path / "end.wav")
    assert _final_f0(tmp_path / "cut.wav") > _final_f0(tmp_path / "end.wav") + 8
