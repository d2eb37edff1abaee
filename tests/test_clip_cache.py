"""The clip cache on its own, with the silence engine (fast: the mutation group `cache` runs this file): whole clips
kept and reused, damaged ones made again and said in words, what an engine hears and hands back, the word times
kept beside a clip, and a full or read-only cache disk explained. tests/test_cache.py builds the mini guide with
espeak-ng around the same cache."""

import contextlib
import json
import os
import subprocess
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.config import BuildSettings
from audioguide.tts.base import RATE
from audioguide.tts.cache import ClipCache, clip_key, clip_problem

from conftest import DATA, needs_tools, tmpfs

pytestmark = needs_tools


def test_a_read_only_cache_is_named_with_the_fix(tmp_path):
    with tmpfs(tmp_path / "ro", "1m") as disk:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        cache = disk / "cache"
        res = CliRunner().invoke(cli, ["build", str(DATA / "mini"), "--out", str(tmp_path / "o"), "--cache",
                                       str(cache)])
        assert res.exit_code == 5, res.output
        assert f"Cannot write the clip cache {cache}" in res.output and "read-only" in res.output
        assert "writable cache folder with --cache DIR or AUDIOGUIDE_CACHE=DIR" in res.output
        assert "--out" not in res.output and "Traceback" not in res.output


def test_workers_asking_for_the_same_clip_at_once_make_it_once(tmp_path):
    """Phone prompts shared by chapters are asked for by several workers at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    from audioguide.tts.silence import SilenceEngine

    class Counting(SilenceEngine):
        calls = 0

        def synthesize(self, text, wav):
            Counting.calls += 1
            super().synthesize(text, wav)

    engine, cache = Counting(BuildSettings(engine="silence")), ClipCache(tmp_path / "cache")
    with ThreadPoolExecutor(8) as pool:
        paths = set(pool.map(lambda _: cache.make(engine, "Pour revenir au menu, tapez étoile."), range(8)))
    assert Counting.calls == 1 and len(paths) == 1 and cache.has(clip_key(engine, "Pour revenir au menu, "
                                                                                   "tapez étoile."))


def test_one_fsync_per_clip_and_the_clip_is_the_one_synced(tmp_path, monkeypatch):
    """The clip's data is made durable before its rename; its record need not be (a lost record only makes the
    clip again), and a second fsync per clip cost ~4 ms more of the synthesis workers' wall time."""
    from audioguide.tts.silence import SilenceEngine

    synced = []
    real = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    engine, cache = SilenceEngine(BuildSettings(engine="silence")), ClipCache(tmp_path / "cache")
    path = cache.make(engine, "Bonjour.")
    assert len(synced) == 1 and synced[0].endswith(".wav") and Path(synced[0]).parent == path.parent
    assert cache.has(clip_key(engine, "Bonjour.")) and ClipCache(tmp_path / "cache").problem(
        clip_key(engine, "Bonjour.")) is None


# --- the cache on its own, with the silence engine: fast, and what a volunteer sees in the log -------------------

class _Counting:
    """The silence engine, counting its calls: a clip made again is a call more."""

    def __init__(self, wpm: int = 150):
        from audioguide.tts.silence import SilenceEngine

        outer = self

        class Engine(SilenceEngine):
            def synthesize(self, text, wav):
                outer.calls += 1
                super().synthesize(text, wav)

        self.calls, self.engine = 0, Engine(BuildSettings(engine="silence", rate=wpm))


def _wav(path: Path, frames: int, rate: int = RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00" * frames * channels)
    return path


def test_the_problem_of_a_damaged_clip_is_said_in_words(tmp_path):
    """The warning a volunteer reads names what is wrong with the clip; a whole clip has no problem."""
    assert clip_problem(_wav(tmp_path / "ok.wav", RATE // 10)) is None
    assert clip_problem(tmp_path / "none.wav").startswith("unreadable (")
    (tmp_path / "text.wav").write_bytes(b"hello, not audio")
    assert clip_problem(tmp_path / "text.wav") == "not a WAV file (16 bytes)"
    (tmp_path / "riff.wav").write_bytes(b"RIFF\x04\x00\x00\x00WAV")
    assert clip_problem(tmp_path / "riff.wav") == "not a WAV file (11 bytes)"
    data = _wav(tmp_path / "cut.wav", 1000).read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[:-10])
    assert clip_problem(tmp_path / "cut.wav") == f"cut short or padded: its header gives {len(data)} bytes, " \
                                                 f"the file has {len(data) - 10}"
    assert clip_problem(_wav(tmp_path / "8k.wav", 1000, rate=8000)) == \
        f"not mono 16-bit {RATE} Hz PCM (format (1, 1, 8000, 16))"
    assert clip_problem(_wav(tmp_path / "st.wav", 1000, channels=2)) == \
        f"not mono 16-bit {RATE} Hz PCM (format (1, 2, {RATE}, 16))"
    assert clip_problem(_wav(tmp_path / "blip.wav", 100)) == "almost no audio (100 samples)"
    # Just enough audio (5 ms) is a clip: espeak-ng's 10 ms of silence for a lone "." is one.
    assert clip_problem(_wav(tmp_path / "5ms.wav", int(RATE * 0.005) + 1)) is None
    # A data chunk that says it is longer than the file (the RIFF size patched to match).
    raw = bytearray(_wav(tmp_path / "long.wav", 1000).read_bytes())
    raw[40:44] = (4000).to_bytes(4, "little")
    (tmp_path / "long.wav").write_bytes(bytes(raw))
    assert clip_problem(tmp_path / "long.wav") == "cut short: its header gives 4000 bytes of audio, the file holds 2000"
    # A header with no data chunk at all (the RIFF size matches the file).
    head = b"WAVE" + b"fmt " + (16).to_bytes(4, "little") + bytes(16)
    (tmp_path / "nodata.wav").write_bytes(b"RIFF" + len(head).to_bytes(4, "little") + head)
    assert clip_problem(tmp_path / "nodata.wav") == "no audio chunk in its header"


def test_a_damaged_clip_is_reported_once_then_made_again_and_reused(tmp_path, caplog):
    counting, cache = _Counting(), ClipCache(tmp_path / "cache")
    text = "Tapez un pour le dossier médical."
    key = clip_key(counting.engine, text)
    clip = cache.make(counting.engine, text)
    assert clip == tmp_path / "cache" / "clips" / key[:2] / f"{key}.wav" and counting.calls == 1
    whole = clip.read_bytes()
    assert ClipCache(tmp_path / "cache").make(counting.engine, text) == clip and counting.calls == 1  # reused
    clip.write_bytes(whole[:len(whole) // 2])
    again = ClipCache(tmp_path / "cache")
    assert not again.has(key) and not again.has(key)
    assert caplog.text.count(f"Cached clip {clip} is damaged (cut short or padded") == 1
    assert again.make(counting.engine, text) == clip and counting.calls == 2 and clip.read_bytes() == whole
    assert ClipCache(tmp_path / "cache").has(key)


def test_an_edited_clip_of_the_same_size_is_made_again(tmp_path, caplog):
    """Only the record's checksum can tell; a clip touched but unchanged is still trusted."""
    counting, cache = _Counting(), ClipCache(tmp_path / "cache")
    clip = cache.make(counting.engine, "Bonjour.")
    key = clip.stem
    os.utime(clip, ns=(clip.stat().st_atime_ns, clip.stat().st_mtime_ns + 10**9))
    assert ClipCache(tmp_path / "cache").has(key)  # touched, same bytes
    data = bytearray(clip.read_bytes())
    data[100:110] = bytes(10)
    clip.write_bytes(bytes(data))
    assert not ClipCache(tmp_path / "cache").has(key)
    assert "its content changed since it was written" in caplog.text
    record = clip.with_suffix(".json")
    record.write_text(json.dumps({"sha256": "x", "size": 1, "mtime_ns": 0}))
    assert ClipCache(tmp_path / "cache").problem(key) == f"{clip.stat().st_size} bytes, 1 when it was written"
    record.write_text("{}")
    assert ClipCache(tmp_path / "cache").problem(key) == "no record of it being written whole"


def test_clean_makes_each_clip_once_more_then_reuses_it(tmp_path):
    """--clean ignores the clips already there, but a clip it made is used again within the same build."""
    counting = _Counting()
    first = ClipCache(tmp_path / "cache")
    first.make(counting.engine, "Bonjour.")
    clean = ClipCache(tmp_path / "cache", ignore_existing=True)
    key = clip_key(counting.engine, "Bonjour.")
    assert not clean.has(key)
    clean.make(counting.engine, "Bonjour.")
    clean.make(counting.engine, "Bonjour.")
    assert counting.calls == 2 and clean.has(key) and ClipCache(tmp_path / "cache").has(key)


def test_a_clip_made_elsewhere_is_kept_whole_or_refused(tmp_path):
    """A cluster worker's clip: kept as if made here and then reused; a damaged one is refused, nothing kept."""
    counting = _Counting()
    made = ClipCache(tmp_path / "a").make(counting.engine, "Bonjour.")
    key = made.stem
    cache = ClipCache(tmp_path / "b")
    kept = cache.put(key, made.read_bytes())
    assert kept.read_bytes() == made.read_bytes() and ClipCache(tmp_path / "b").has(key)
    assert ClipCache(tmp_path / "b").make(counting.engine, "Bonjour.") == kept and counting.calls == 1
    with pytest.raises(Exception) as e:
        ClipCache(tmp_path / "c").put(key, made.read_bytes()[:40])
    assert "The remote engine returned a damaged clip (cut short or padded" in str(e.value)
    assert "rephrase that text" in str(e.value)
    assert [p for p in (tmp_path / "c").rglob("*") if p.is_file()] == []


def test_word_times_are_kept_beside_the_clip_and_made_again_with_it(tmp_path):
    """Captions inside a clip: timed once, read back on the next build, timed again when the clip is remade."""
    counting = _Counting(wpm=120)
    engine, cache = counting.engine, ClipCache(tmp_path / "cache")
    text = "Un deux trois quatre"
    key = clip_key(engine, text)
    words = cache.words(engine, text, key)
    # 2 s of faint tone spread over 17 letters (2, 4, 5, 6 a word); it passes the trim threshold 6 samples in
    assert [w[0] for w in words] == [0, 3, 8, 14] and words[0][1] == round(6 / RATE, 6)
    assert [round(b[1] - a[1], 2) for a, b in zip(words, words[1:])] == [0.24, 0.47, 0.59]
    saved = cache.path(key).with_name(f"{key}.words.json")
    assert json.loads(saved.read_text()) == words and counting.calls == 1
    saved.write_text(json.dumps([[0, 9.0]]))
    assert ClipCache(tmp_path / "cache").words(engine, text, key) == [[0, 9.0]]  # read back, not timed
    saved.write_text(json.dumps([0.5, 9.0]))  # not pairs: timed again
    assert ClipCache(tmp_path / "cache").words(engine, text, key) == words and counting.calls == 1
    saved.write_text("not json")
    assert ClipCache(tmp_path / "cache").words(engine, text, key) == words and counting.calls == 1
    saved.write_text(json.dumps([[0, 9.0]]))
    cache.path(key).write_bytes(b"damaged")  # the clip made again (a build makes clips first): its times go with it
    again = ClipCache(tmp_path / "cache")
    again.make(engine, text)
    assert not saved.exists() and again.words(engine, text, key) == words and counting.calls == 2


# --- what a volunteer reads when an engine name, option or conversion is wrong -------------------------------

def test_a_mistyped_engine_is_refused_with_the_likely_one_and_the_list():
    from audioguide.config import BuildSettings
    from audioguide.exceptions import ConfigError
    from audioguide.tts import engine_classes, get_engine, settings_problems

    names = ", ".join(engine_classes())
    with pytest.raises(ConfigError) as e:
        get_engine("espek", BuildSettings())
    assert str(e.value).startswith("Unknown engine 'espek'.")
    assert "did you mean 'espeak'?" in str(e.value) and f"choose one of: {names} (see `audioguide engines`)" \
        in str(e.value)
    assert ("--engine espek", "this voice engine does not exist",
            f"did you mean “espeak”? engines: {names} (see `audioguide engines`)") \
        in settings_problems(BuildSettings(engine="espek"))


def test_a_setting_neither_engine_reads_names_both_engines():
    from audioguide.tts import option_problems

    problems = option_problems(["piper", "espeak"], {"vitesse": "2"})
    assert [p[:2] for p in problems] == [("-o vitesse=2", "the engine piper and espeak does not know the setting "
                                                           "“vitesse”")]


def test_a_file_ffmpeg_cannot_convert_is_named_with_ffmpegs_own_words(tmp_path):
    from audioguide.exceptions import EngineError
    from audioguide.tts.base import to_wav

    bad = tmp_path / "voix.mp3"
    bad.write_bytes(b"ceci n'est pas un son" * 50)
    with pytest.raises(EngineError) as e:
        to_wav(bad, tmp_path / "voix.wav")
    text = str(e.value)
    assert text.startswith("ffmpeg could not convert voix.mp3: ") and len(text) > len("ffmpeg could not convert "
                                                                                      "voix.mp3: ") + 10, text


def test_long_text_is_cut_for_an_engine_without_an_empty_last_piece():
    from audioguide.tts.base import bound_text

    text = "Première phrase assez longue pour remplir. " * 6
    pieces = bound_text(text, max_chars=100)
    assert all(pieces) and all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces) == text.strip()
    # Nothing to say is no call at all: gTTS refuses an empty text, and an empty piece would be an empty clip.
    assert bound_text(" " * 1200) == []


# --- what an engine hears and hands back, through the cache ------------------------------------------------------

class _Hearing:
    """The silence engine with a small limit on text, keeping what each of its calls was given to say."""

    def __init__(self, max_chars: int = 60):
        from audioguide.tts.silence import SilenceEngine

        outer = self

        class Engine(SilenceEngine):
            def synthesize(self, text, wav):
                outer.heard.append(text)
                super().synthesize(text, wav)

        Engine.max_chars = max_chars
        self.heard: list[str] = []
        self.engine = Engine(BuildSettings(engine="silence", rate=150))

    @staticmethod
    def frames(text: str) -> int:
        """The silence engine's length for a text: its words at 150 a minute."""
        return int(RATE * 60 * max(1, len(text.split())) / 150)


def test_a_long_text_is_said_whole_in_pieces_joined_without_a_gap(tmp_path):
    """Over an engine's limit, the text goes in several calls cut at sentence ends (a sentence exactly as long as
    the limit stays whole), and the clip is the pieces end to end: no word lost, no silence between them."""
    hearing, cache = _Hearing(max_chars=60), ClipCache(tmp_path / "cache")
    first = "Votre dossier médical partagé garde vos comptes rendus, ici."
    assert len(first) == 60
    text = f"{first} Il est gratuit, et vous pouvez le fermer. Quand vous voulez, sans frais."
    clip = cache.make(hearing.engine, text)
    assert hearing.heard == [first, "Il est gratuit, et vous pouvez le fermer.", "Quand vous voulez, sans frais."]
    with wave.open(str(clip)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        assert w.getnframes() == sum(_Hearing.frames(p) for p in hearing.heard)
    assert clip_problem(clip) is None  # and no piece left beside it
    assert sorted(p.name for p in clip.parent.iterdir()) == [f"{clip.stem}.json", clip.name]


def test_an_over_long_word_reaches_the_engine_broken_at_its_slashes_and_hyphens(tmp_path):
    """A web address longer than an engine can spell is said in runs cut after a slash or hyphen, one space between."""
    hearing, cache = _Hearing(max_chars=1000), ClipCache(tmp_path / "cache")
    cache.make(hearing.engine, "voir www.exemple.fr/un-chemin-vraiment-tres-long/et-encore")
    cache.make(hearing.engine, "Code " + "A" * 45)
    assert hearing.heard == ["voir www.exemple.fr/un-chemin-vraiment-tres- long/et-encore",
                             "Code " + "A" * 40 + " AAAAA"]


def test_an_mp3_from_an_engine_becomes_a_clip_of_the_common_format_with_no_tool_in_its_bytes(tmp_path):
    """gTTS and some Piper voices hand back other audio: converted to mono 16-bit 22050 Hz, as long as it was, and
    the same bytes on any machine (no encoder name or date in the clip)."""
    from audioguide.tts.base import to_wav

    mp3 = tmp_path / "google.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                    "-ac", "2", "-ar", "24000", "-metadata", "title=Bonjour", str(mp3)], check=True)
    to_wav(mp3, tmp_path / "a.wav")
    to_wav(mp3, tmp_path / "b.wav")
    assert clip_problem(tmp_path / "a.wav") is None
    with wave.open(str(tmp_path / "a.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        assert abs(w.getnframes() / RATE - 1.0) < 0.1
    data = (tmp_path / "a.wav").read_bytes()
    assert data == (tmp_path / "b.wav").read_bytes()
    assert b"Lavf" not in data and b"LIST" not in data and b"Bonjour" not in data


@pytest.mark.french
def test_without_ffmpeg_the_conversion_says_what_to_install(tmp_path, monkeypatch):
    from audioguide.exceptions import EngineError
    from audioguide.tts.base import to_wav

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineError) as e:
        to_wav(tmp_path / "google.mp3", tmp_path / "clip.wav")
    assert str(e.value).startswith("ffmpeg est introuvable.") and "apt-get install ffmpeg" in str(e.value)


@pytest.mark.french
def test_an_engine_that_cannot_run_is_refused_with_its_cause_and_fix_before_any_work(tmp_path, monkeypatch):
    """What the volunteer reads when espeak-ng is missing: the engine, why, and how to install it."""
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    res = CliRunner().invoke(cli, ["build", str(DATA / "mini"), "--out", str(tmp_path / "out"), "--cache",
                                   str(tmp_path / "cache")])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "Le moteur espeak ne peut pas fonctionner ici." in res.output, res.output
    assert "Cause probable : espeak-ng n'est pas installé." in res.output
    assert "apt-get install espeak-ng" in res.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache" / "clips").exists()


def test_word_times_span_the_speech_up_to_its_last_sample_at_the_trim_level(tmp_path):
    """The fallback timing spreads the words over the speech the chapter keeps (audio.py trims below the same
    level), not over the silence after it: here 1 s at the level, then 1 s of silence."""
    from audioguide.tts.base import TRIM_THRESHOLD
    from audioguide.tts.silence import SilenceEngine

    class Quiet(SilenceEngine):
        def synthesize(self, text, wav):
            with wave.open(str(wav), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(RATE)
                level = TRIM_THRESHOLD.to_bytes(2, "little") + (-TRIM_THRESHOLD).to_bytes(2, "little", signed=True)
                w.writeframes(level * (RATE // 2) + bytes(2 * RATE))

    engine, cache = Quiet(BuildSettings(engine="silence")), ClipCache(tmp_path / "cache")
    text = "un deux"  # 2 and 4 letters: the second word a third of the way through the speech
    assert cache.words(engine, text, clip_key(engine, text)) == [[0, 0.0], [3, round(1 / 3, 6)]]


def test_a_clip_without_record_is_named_in_the_debug_log(tmp_path, caplog):
    """`audioguide -vv` says which clip is made again because no record says it was written whole."""
    import logging

    counting = _Counting()
    clip = ClipCache(tmp_path / "cache").make(counting.engine, "Bonjour.")
    clip.with_suffix(".json").unlink()
    caplog.set_level(logging.DEBUG, logger="audioguide.tts.cache")
    assert not ClipCache(tmp_path / "cache").has(clip.stem)
    assert f"Cached clip {clip} has no record: making it again." in caplog.text
    assert "is damaged" not in caplog.text


@pytest.mark.french
def test_a_cache_disk_filling_up_is_explained_in_french_and_leaves_no_half_clip(tmp_path):
    """An engine whose tool ignores its own write errors (as espeak-ng's command line did) leaves a cut clip on a
    full disk, and a word-times record cannot be written there either: both are said as a full cache disk, with
    nothing half-written left; with room made, the same cache works."""
    from audioguide.exceptions import PublishError

    class ThroughATool(type(_Hearing(max_chars=1000).engine)):
        def synthesize(self, text, wav):
            tone = tmp_path / "tone.wav"
            super().synthesize(text, tone)
            subprocess.run(["sh", "-c", 'cat > "$0"', str(wav)], input=tone.read_bytes())  # its status unread

    full = "Impossible d'écrire dans le cache des extraits de voix {} : le disque est plein."
    with tmpfs(tmp_path / "disk", "512k") as disk:
        engine, cache = ThroughATool(BuildSettings(engine="silence", rate=150)), ClipCache(disk / "cache")
        short = cache.make(engine, "Bonjour.")  # 0.4 s: fits
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(bytes(4096))
        with pytest.raises(PublishError) as e:
            cache.words(engine, "Bonjour.", short.stem)
        assert str(e.value).startswith(full.format(disk / "cache")), str(e.value)
        long_text = "Tapez un pour le dossier médical partagé, deux pour les ordonnances."
        with pytest.raises(PublishError) as e:
            cache.make(engine, long_text)
        assert str(e.value).startswith(full.format(disk / "cache")), str(e.value)
        assert "les extraits terminés ont été gardés" in str(e.value)
        left = sorted(p.name for p in (disk / "cache" / "clips").rglob("*") if p.is_file())
        assert left == sorted([short.name, f"{short.stem}.json"])
        filler.unlink()
        again = ClipCache(disk / "cache")
        assert clip_problem(again.make(engine, long_text)) is None
        assert [w[0] for w in again.words(engine, "Bonjour.", short.stem)] == [0]
