"""Phone sounds cut from one chain per rate: the levelled, band-limited, peak-limited chapter is made once for
8 kHz and once for 16 kHz (G.722), and each span is cut from it; μ-law and A-law come from ffmpeg's tables."""

import subprocess
import wave

import numpy as np
import pytest

from audioguide import audio
from audioguide.phone import audio as phone_audio
from audioguide.phone.audio import FORMATS, export

from conftest import needs_tools

pytestmark = needs_tools
SENTENCES = ["Bonjour et bienvenue.", "Votre dossier médical partagé garde vos ordonnances.",
             "Appelez le quinze en cas d'urgence.", "Fin du sujet."]


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    """Sentences of real espeak-ng speech with a second of silence between them, as a chapter is laid out;
    returns the WAV and the spans cut in the middle of each pause."""
    tmp = tmp_path_factory.mktemp("phone-audio")
    w = audio.WavWriter(tmp / "chapter.wav")
    cuts = [0.0]
    for i, text in enumerate(SENTENCES):
        clip = tmp / f"{i}.wav"
        subprocess.run(["espeak-ng", "-v", "fr", "-w", str(clip), text], check=True)
        w.add_clip(clip)
        w.add(audio.silence(1000))
        cuts.append(round(w.seconds - 0.5, 3))
    w.close()
    return tmp / "chapter.wav", list(zip(cuts, cuts[1:]))


def test_the_chain_runs_once_per_rate_not_once_per_span(chapter, tmp_path, monkeypatch):
    wav, spans = chapter
    runs = []
    real = phone_audio._run
    monkeypatch.setattr(phone_audio, "_run", lambda cmd, what: (runs.append(cmd), real(cmd, what))[1])
    export(wav, [(tmp_path / f"s{i}", a, b) for i, (a, b) in enumerate(spans)], -3.0)
    assert len(runs) == 1
    graph = runs[0][runs[0].index("-filter_complex") + 1]
    assert graph.count("alimiter") == graph.count("highpass=f=300,highpass=f=300") * 2 == 2, graph
    assert sorted(p.suffix for p in tmp_path.iterdir()) == sorted([f".{e}" for e in FORMATS] * len(spans))


def test_every_format_of_a_span_holds_the_same_sound(chapter, tmp_path):
    wav, spans = chapter
    export(wav, [(tmp_path / f"s{i}", a, b) for i, (a, b) in enumerate(spans)], -3.0)
    for i, (a, b) in enumerate(spans):
        base = tmp_path / f"s{i}"
        sln = (base.with_suffix(".sln")).read_bytes()
        assert len(sln) == 2 * round((b - a) * 8000)
        with wave.open(str(base.with_suffix(".wav"))) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            assert w.readframes(w.getnframes()) == sln
        for ext, codec in (("ulaw", "mulaw"), ("alaw", "alaw")):  # ffmpeg's own encoder on the linear file
            made = subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", "8000", "-ac", "1", "-i",
                                   str(base.with_suffix(".sln")), "-c:a", f"pcm_{codec}", "-f", codec, "-"],
                                  capture_output=True, check=True).stdout
            assert base.with_suffix(f".{ext}").read_bytes() == made, ext
        # G.722 cut from the whole: a decoder starting at the cut hears silence there (no click), then the
        # sentence at the level of the 8 kHz file.
        g722 = np.frombuffer(subprocess.run(["ffmpeg", "-v", "error", "-f", "g722", "-i",
                                             str(base.with_suffix(".g722")), "-f", "s16le", "-ac", "1", "-"],
                                            capture_output=True, check=True).stdout, "<i2")
        narrow = np.frombuffer(sln, "<i2")
        assert abs(len(g722) - 2 * len(narrow)) <= 16
        assert np.abs(g722[:160]).max() < 100 and np.abs(narrow[:80]).max() < 100  # the first 10 ms
        loud = 20 * np.log10(np.sqrt(np.mean(g722.astype(float) ** 2)) / np.sqrt(np.mean(narrow.astype(float) ** 2)))
        assert abs(loud) < 3, (i, loud)


def test_several_sources_in_one_run_make_each_ones_own_bytes(chapter, tmp_path, monkeypatch):
    """The menu's prompts share one ffmpeg run: each source keeps its own gain and chains, its files the bytes
    that a run of its own makes."""
    wav, spans = chapter
    other = tmp_path / "other.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), "-t", "2.5", "-af", "volume=-9dB",
                    str(other)], check=True)
    alone, shared = tmp_path / "alone", tmp_path / "shared"
    alone.mkdir(), shared.mkdir()
    export(wav, [(alone / "a", None, None)], -3.0)
    export(other, [(alone / "b", None, None)], 4.5)
    runs = []
    real = phone_audio._run
    monkeypatch.setattr(phone_audio, "_run", lambda cmd, what: (runs.append(cmd), real(cmd, what))[1])
    phone_audio.export_many([(wav, [(shared / "a", None, None)], -3.0), (other, [(shared / "b", None, None)], 4.5)])
    assert len(runs) == 1
    for name in ("a", "b"):
        for ext in FORMATS:
            assert (shared / f"{name}.{ext}").read_bytes() == (alone / f"{name}.{ext}").read_bytes(), (name, ext)
    assert (shared / "a.sln").stat().st_size != (shared / "b.sln").stat().st_size


def test_a_chapter_cut_in_its_limiter_pass_has_the_bytes_of_its_own_run(chapter, tmp_path, monkeypatch):
    """The build makes a chapter's phone sounds in the ffmpeg run that measures the chapter through the MP3's
    limiter (phone_audio.tap): one run instead of two, the same phone files, the same limited loudness."""
    wav, spans = chapter
    alone, tapped = tmp_path / "alone", tmp_path / "tapped"
    alone.mkdir(), tapped.mkdir()
    export(wav, [(alone / f"s{i}", a, b) for i, (a, b) in enumerate(spans)], -3.0)
    want = audio.limited_loudness(wav, 9.0)
    runs, done = [], []
    real = audio._pcm
    monkeypatch.setattr(audio, "_pcm", lambda cmd, what: (runs.append(cmd), real(cmd, what))[1])
    t = phone_audio.tap(wav, [(tapped / f"s{i}", a, b) for i, (a, b) in enumerate(spans)], -3.0,
                        lambda: done.append(1))
    assert audio.limited_loudness(wav, 9.0, taps=[t]) == want
    assert len(runs) == 1 and done == [1]
    assert sorted(p.name for p in tapped.iterdir()) == sorted(p.name for p in alone.iterdir())
    for p in alone.iterdir():
        assert (tapped / p.name).read_bytes() == p.read_bytes(), p.name
    assert not list(wav.parent.glob("*phone*"))  # its raw files gone from the chapter's folder


def test_a_span_the_sound_cannot_fill_is_refused_and_nothing_is_published(chapter, tmp_path):
    """A phone page asked for longer than its chapter's audio: the error names the sound, says how long it came
    out and how long it should be, with the cause and the fix; none of its files appear."""
    from audioguide.exceptions import AudioError

    wav, spans = chapter
    with wave.open(str(wav)) as w:
        length = w.getnframes() / w.getframerate()
    with pytest.raises(AudioError) as exc:
        export(wav, [(tmp_path / "trop-long", length - 1.0, length + 2.0)], -3.0)
    assert exc.value.message == ("ffmpeg made an incomplete phone sound trop-long (it lasts 1.00 s instead of "
                                 "3.00 s)."), exc.value.message
    assert exc.value.cause == "ffmpeg stopped writing without reporting an error" and "build again" in exc.value.fix
    assert list(tmp_path.iterdir()) == []


def test_a_sound_ffmpeg_cannot_read_is_named_in_the_error(tmp_path):
    from audioguide.exceptions import AudioError

    bad = tmp_path / "chapitre-abime.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt not a sound at all")
    with pytest.raises(AudioError) as exc:
        export(bad, [(tmp_path / "p1", None, None)], -3.0)
    assert exc.value.message.startswith("ffmpeg failed while making phone audio from chapitre-abime.wav: ")
