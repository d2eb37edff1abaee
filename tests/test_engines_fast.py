# ruff: noqa: F811  (the `joe` fixture, imported from test_engines.py, is asked for by name)
"""Piper and gTTS without a guide build: the engine's clips and the messages a volunteer reads, in French.

script/mutation's `engines` group runs this file alone, so that each mutant is not held up by
test_engines.py's and test_timing.py's builds; the clip-level tests of those files are taken here as they are.
"""

import json
import os
import sys
import wave
from pathlib import Path

import pytest
from test_engines import google, joe, piper, wav_stats  # noqa: F401  (fixtures and helpers, asked for by name)

from audioguide.exceptions import EngineError
from audioguide.tts.base import RATE

# Under script/mutation only (mutmut sets MUTANT_UNDER_TEST in all its runs): the clip-level tests of
# test_engines.py and test_timing.py, collected here as well; elsewhere they run once, in their own files.
if "MUTANT_UNDER_TEST" in os.environ:
    from test_engines import (  # noqa: F401
        test_a_changed_voice_config_changes_the_cache_key,
        test_chunks_stay_within_the_limit_and_keep_every_word,
        test_engines_lists_each_with_whether_it_can_run,
        test_gtts_asks_the_google_domain_chosen_and_says_each_retry,
        test_gtts_gives_up_with_a_clear_error,
        test_gtts_offline_says_so_and_falls_back_only_when_asked,
        test_gtts_refused_connection_is_retried_then_explained,
        test_gtts_retries_with_backoff_then_succeeds,
        test_gtts_sends_one_request_per_chunk_and_returns_a_clip,
        test_piper_clip_depends_only_on_its_text,
        test_piper_damaged_voice_and_config_are_explained,
        test_piper_length_scale_slows_it_down_and_changes_the_cache_key,
        test_piper_long_text_is_spoken_in_bounded_runs,
        test_piper_missing_config_and_missing_file_are_explained,
        test_piper_noise_drawn_short_is_drawn_again_with_the_same_result,
        test_piper_noise_is_still_noise,
        test_piper_release_frees_memory_and_never_loads,
        test_piper_speaks_with_a_real_voice,
    )
    from test_timing import test_piper_times_words_from_its_phoneme_durations  # noqa: F401


def _voice(tmp_path, joe, **config) -> Path:
    """The joe voice under another name, with its .onnx.json changed as given."""
    voice = tmp_path / "voix.onnx"
    voice.symlink_to(joe)
    data = json.loads(Path(f"{joe}.json").read_text("utf-8"))
    for key, value in config.items():
        if isinstance(value, dict):
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    Path(f"{voice}.json").write_text(json.dumps(data), "utf-8")
    return voice


@pytest.mark.french
def test_a_voice_without_its_config_says_to_put_both_files_together(joe, tmp_path):
    lone = tmp_path / "voix.onnx"
    lone.symlink_to(joe)
    with pytest.raises(EngineError) as err:
        piper(lone).check()
    assert str(err.value) == (f"Réglages de la voix Piper introuvables : {lone}.json\n"
                              "Cause probable : chaque voix .onnx va avec un fichier .onnx.json\n"
                              "Solution : mettez les deux fichiers dans le même dossier")


@pytest.mark.french
@pytest.mark.parametrize("config,problem", [("[1, 2]", "not a JSON object"), ('{"audio": {}}', "no 'num_speakers'")])
def test_a_config_of_the_wrong_shape_is_named_with_the_cause_and_the_fix(joe, tmp_path, config, problem):
    voice = tmp_path / "voix.onnx"
    voice.symlink_to(joe)
    Path(f"{voice}.json").write_text(config)
    with pytest.raises(EngineError) as err:
        piper(voice).check()
    assert str(err.value) == (f"Les réglages de la voix Piper {voice}.json sont illisibles ({problem}).\n"
                              "Cause probable : un fichier .onnx.json abîmé ou incomplet\n"
                              "Solution : téléchargez la voix à nouveau")


def test_the_engine_list_says_how_to_get_a_voice_or_piper_itself(monkeypatch):
    from audioguide.tts.piper_engine import PiperEngine

    assert PiperEngine.probe() == (True, "installed; needs --voice NAME or PATH.onnx (install a French voice with "
                                         "`audioguide voices install fr_FR-siwis-medium`)")
    monkeypatch.setitem(sys.modules, "piper", None)  # as if piper-tts were not installed
    ok, why = PiperEngine.probe()
    assert not ok and why.startswith("piper is not installed.") and why.endswith("pip install 'audioguide[piper]'")


@pytest.mark.french
def test_a_config_that_does_not_match_the_model_is_explained_with_the_text(joe, tmp_path):
    """A config that announces two speakers for a one-speaker model: the model refuses the speaker number."""
    engine = piper(_voice(tmp_path, joe, num_speakers=2))
    engine.check()
    with pytest.raises(EngineError) as err:
        engine.synthesize("Hello there.", tmp_path / "a.wav")
    text = str(err.value)
    assert text.startswith("Piper a échoué sur le texte «Hello there.» (")
    assert text.endswith("Cause probable : un fichier de voix qui ne correspond pas à cette version de piper-tts, ou "
                         "un texte inhabituel\nSolution : téléchargez la voix à nouveau, ou reformulez ce texte")
    assert not (tmp_path / "a.wav").exists()


@pytest.mark.french
def test_a_text_with_nothing_to_say_is_explained(joe, tmp_path):
    with pytest.raises(EngineError) as err:
        piper(joe).synthesize("", tmp_path / "a.wav")
    assert str(err.value) == ("Piper n'a produit aucune parole à partir du texte «».\n"
                              "Cause probable : le texte ne contient rien que cette voix sache prononcer\n"
                              "Solution : reformulez ce texte dans le guide")


def test_a_16khz_voice_is_brought_to_the_build_rate_with_all_its_speech(joe, tmp_path):
    """A voice whose config says 16 kHz: its samples are read at 16 kHz and resampled, the speech kept whole."""
    text = "One, two, three."
    piper(joe).synthesize(text, tmp_path / "usual.wav")
    piper(_voice(tmp_path, joe, audio={"sample_rate": 16000})).synthesize(text, tmp_path / "slow.wav")
    rate, channels, seconds, rms = wav_stats(tmp_path / "slow.wav")
    assert (rate, channels) == (RATE, 1) and rms > 0.02
    assert abs(seconds - wav_stats(tmp_path / "usual.wav")[2] * RATE / 16000) < 0.01
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.wav", "usual.wav", "voix.onnx", "voix.onnx.json"]
    with wave.open(str(tmp_path / "slow.wav")) as w:
        assert w.getsampwidth() == 2


def test_word_times_follow_the_clip_made_with_the_chosen_noise(joe, tmp_path):
    """With -o noise_scale, a word of the second sentence starts after the first sentence as it was actually
    spoken with that setting (each sentence's noise is seeded by its text and settings)."""
    engine = piper(joe, noise_scale="0.3")
    engine.synthesize("One more time.", tmp_path / "first.wav")
    with wave.open(str(tmp_path / "first.wav")) as w:
        first = w.getnframes()
    alone = engine.word_starts("Then stop.", tmp_path / "first.wav")
    both = engine.word_starts("One more time. Then stop.", tmp_path / "first.wav")
    assert [p for p, _ in both] == [0, 4, 9, 15, 20]
    assert round(both[3][1] * RATE) == first + round(alone[0][1] * RATE)
