"""Loudness: what a listener hears is at the target level, measured by ffmpeg's EBU R128 meter on real speech."""

import subprocess

import pytest

from audioguide.audio import ENCODER_LOSS_DB, encode_mp3, gain_to, loudness_gain, measure_loudness
from audioguide.config import BuildSettings

from conftest import needs_tools

pytestmark = [needs_tools]
WINDOW_LU = 0.5  # tight: without the limiter's make-up gain chapters land ~0.7 LU low, inside a ±1 LU window


def test_chapters_and_whole_guide_are_at_the_target_loudness(mini_build):
    m = mini_build.manifest
    target = mini_build.settings.loudness_lufs
    for f in [c["mp3"] for c in m["chapters"]] + [m["whole"]["mp3"]]:
        lufs, tp = measure_loudness(mini_build.out_dir / f, true_peak=True)
        assert lufs == pytest.approx(target, abs=WINDOW_LU), (f, lufs)
        assert tp is not None and tp <= -1.0, (f, tp)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """Real espeak-ng speech, loud consonants and all: its peaks make the limiter work."""
    wav = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(wav),
                    "Bonjour. Votre dossier médical partagé garde vos ordonnances, vos analyses et vos comptes-rendus. "
                    "Appelez le quinze en cas d'urgence, de jour comme de nuit."], check=True)
    return wav


def test_the_limiters_loss_is_made_up(speech, tmp_path):
    s = BuildSettings()
    raw, _ = measure_loudness(speech)
    plain = gain_to(s.loudness_lufs + ENCODER_LOSS_DB, raw)
    gain = loudness_gain(speech, s)
    assert gain > plain + 0.3  # more than the plain difference: the limiter took some back
    encode_mp3(speech, tmp_path / "made-up.mp3", s, gain)
    encode_mp3(speech, tmp_path / "plain.mp3", s, plain)
    made_up, _ = measure_loudness(tmp_path / "made-up.mp3")
    without, _ = measure_loudness(tmp_path / "plain.mp3")
    assert made_up == pytest.approx(s.loudness_lufs, abs=WINDOW_LU)
    assert without < s.loudness_lufs - WINDOW_LU  # what listeners got without the make-up: too quiet


def test_silence_gets_no_gain(tmp_path):
    wav = tmp_path / "silence.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "2", str(wav)],
                   check=True)
    assert loudness_gain(wav, BuildSettings()) == 0.0


def test_one_encode_leaves_the_true_peak_well_under_the_ceiling(speech, tmp_path, monkeypatch):
    """The limiter leaves room for the resampler's and LAME's overshoot, so the measured-and-encode-again
    path is for rare transients, not a second encode of every few chapters (it was 2 in 15 for e-santé)."""
    import audioguide.audio as audio

    encodes = []
    real = audio._run
    monkeypatch.setattr(audio, "_run", lambda cmd, what: (encodes.append(what) if "libmp3lame" in cmd else None,
                                                          real(cmd, what))[1])
    s = BuildSettings()
    mp3 = tmp_path / "once.mp3"
    encode_mp3(speech, mp3, s, loudness_gain(speech, s))
    assert len(encodes) == 1
    assert audio.true_peak(mp3) <= s.true_peak_db - 1.0  # a dB of room left for a sharper sound (-1.8 at -2 dBFS)
    lufs, _ = measure_loudness(mp3)
    assert lufs == pytest.approx(s.loudness_lufs, abs=WINDOW_LU)


def test_trim_keeps_a_full_scale_negative_sample_and_pads_20_ms():
    from array import array

    from audioguide.audio import RATE, _trim

    pad = int(RATE * 0.02)
    pcm = array("h", [0] * 1000 + [-32768] + [10] * 500 + [300] + [0] * 1000)  # |−32768| overflows an int16
    kept, skipped = _trim(pcm.tobytes(), 200)
    assert skipped == 1000 - pad
    assert array("h", kept).tolist() == pcm[1000 - pad:1000 + 502 + pad].tolist()
    assert _trim(array("h", [5] * 3000).tobytes(), 200) == (array("h", [5] * pad).tobytes(), 3000 - pad)


def test_an_mp3_over_the_ceiling_is_caught_and_encoded_again(speech, tmp_path, monkeypatch):
    """Without the limiter's headroom LAME's overshoot passes the ceiling: the check on the published MP3 (by
    libmpg123, in this process) must see it, and the chapter is encoded again under the ceiling."""
    import audioguide.audio as audio

    encodes = []
    real = audio._run
    monkeypatch.setattr(audio, "_run", lambda cmd, what: (encodes.append(what) if "libmp3lame" in cmd else None,
                                                          real(cmd, what))[1])
    monkeypatch.setattr(audio, "LIMIT", 0.99)
    s = BuildSettings()
    mp3 = tmp_path / "loud.mp3"
    encode_mp3(speech, mp3, s, 14.0)
    assert len(encodes) >= 2
    _, tp = measure_loudness(mp3, true_peak=True)
    assert tp is not None and tp <= s.true_peak_db
