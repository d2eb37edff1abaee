"""The in-process loudness and true-peak meter (audio.Meter) against ffmpeg's EBU R128 meter, the real one, on
generated signals: the build levels every chapter and checks every MP3 with it, so it must read as ffmpeg reads."""

import subprocess
import wave

import numpy as np
import pytest

from audioguide import audio

from conftest import needs_tools

pytestmark = needs_tools


def ffmpeg_r128(path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) by ffmpeg's ebur128, to 3 decimals (its summary prints one)."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-af",
                          "ebur128=peak=true:metadata=1,ametadata=mode=print:file=-", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stdout
    last = {k: v for k, _, v in (line.partition("=") for line in out.splitlines()) if v}
    return float(last["lavfi.r128.I"]), 20 * np.log10(float(last["lavfi.r128.true_peak"]))


def lavfi(tmp_path, name: str, source: str, *args: str):
    path = tmp_path / name
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", source, *args, str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    wav = tmp_path_factory.mktemp("meter") / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(wav),
                    "Votre dossier médical partagé garde vos ordonnances et vos analyses. Appelez le quinze en cas "
                    "d'urgence, de jour comme de nuit, et gardez ce numéro près du téléphone."], check=True)
    return wav


def ours(path, pieces: int = audio.CHUNK) -> tuple[float, float]:
    """Our meter on the file's samples as ffmpeg decodes them, fed `pieces` samples at a time."""
    rate = int(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=sample_rate", "-of", "csv=p=0",
                               str(path)], capture_output=True, text=True, check=True).stdout)
    pcm = np.concatenate(list(audio._pcm(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1",
                                          "-f", "f32le", "-"], "test")))
    m = audio.meter((pcm[i:i + pieces] for i in range(0, len(pcm), pieces)), rate, true_peak=True)
    return m.loudness(), m.peak_db()


FADE = "afade=t=in:d=0.05,afade=t=out:st=4.9:d=0.1"


@pytest.mark.parametrize("name,source,args", [
    ("sine-1k.wav", "sine=f=1000:r=22050:d=5", ["-af", f"volume=0.5,{FADE}"]),  # 1 kHz: K-weighting ~0
    ("sine-100.wav", "sine=f=100:r=44100:d=5", ["-af", FADE]),  # under the shelf, above the high-pass
    ("sine-6k.wav", "sine=f=6000:r=22050:d=5", ["-af", FADE]),  # on the +4 dB shelf; peaks between samples
    ("pink.wav", "anoisesrc=c=pink:r=44100:a=0.4:d=6:s=7", ["-af", "lowpass=f=15000"]),
    ("quiet-loud.wav", "sine=f=440:r=8000:d=8", ["-af", "volume='if(lt(t,4),0.01,0.6)':eval=frame"]),  # gated
    ("noise.mp3", "anoisesrc=c=brown:r=44100:a=0.7:d=5:s=3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
    # -20 then -34 LUFS: the quiet half just under the relative gate (10 LU under the blocks' loudness, -33.0)
    ("relative-gate.wav", "sine=f=1000:r=22050:d=8", ["-af", "volume='if(lt(t,4),1.13,0.2256)':eval=frame",
                                                      "-c:a", "pcm_f32le"]),
])
def test_the_meter_reads_generated_signals_as_ffmpeg_does(tmp_path, name, source, args):
    path = lavfi(tmp_path, name, source, *args)
    (lufs, tp), (want_lufs, want_tp) = ours(path), ffmpeg_r128(path)
    assert lufs == pytest.approx(want_lufs, abs=0.1) and tp == pytest.approx(want_tp, abs=0.1), \
        ((lufs, tp), (want_lufs, want_tp))


def test_a_faint_stretch_under_the_absolute_gate_is_left_out_as_ffmpeg_leaves_it(tmp_path):
    """-62 then -70.5 LUFS: the faint half is just under the absolute gate (-70 LUFS). Loudness only: ffmpeg prints
    a true peak this low to 0.001 of full scale (-60 dB)."""
    path = lavfi(tmp_path, "absolute-gate.wav", "sine=f=1000:r=22050:d=8",
                 "-af", "volume='if(lt(t,4),0.00896,0.00336)':eval=frame", "-c:a", "pcm_f32le")
    want = ffmpeg_r128(path)[0]
    assert want == pytest.approx(-62.2, abs=0.1) and ours(path)[0] == pytest.approx(want, abs=0.1)


@pytest.mark.parametrize("rate", [22050, 16000, 8000])
def test_the_meter_reads_speech_as_ffmpeg_does_in_pieces_of_any_size(speech, tmp_path, rate):
    wav = tmp_path / f"speech-{rate}.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(speech), "-ar", str(rate), str(wav)], check=True)
    want_lufs, want_tp = ffmpeg_r128(wav)
    for pieces in (audio.CHUNK, 4410, 999):  # a piece shorter than the filters: their tails carry over
        lufs, tp = ours(wav, pieces)
        assert lufs == pytest.approx(want_lufs, abs=0.1) and tp == pytest.approx(want_tp, abs=0.1), (pieces, lufs, tp)


def test_the_wav_loudness_and_the_mp3_true_peak_the_build_uses(speech, tmp_path):
    mp3 = tmp_path / "speech.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(speech), "-af", "volume=6dB", "-ar", "44100",
                    "-c:a", "libmp3lame", "-b:a", "64k", str(mp3)], check=True)
    assert audio.loudness(speech) == pytest.approx(ffmpeg_r128(speech)[0], abs=0.1)
    assert audio.true_peak(mp3) == pytest.approx(ffmpeg_r128(mp3)[1], abs=0.1)
    for gain in (3.0, 8.0, 12.0):  # through the limiter: from the raw steps and what the limiter left of each
        tee = tmp_path / f"limited-{gain}.wav"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(speech), "-af", audio._limit(gain),
                        "-c:a", "pcm_f32le", str(tee)], check=True)
        assert audio.limited_loudness(speech, gain) == pytest.approx(ffmpeg_r128(tee)[0], abs=0.1), gain


def test_silence_and_a_too_short_sound_read_as_silence(tmp_path):
    path = tmp_path / "short.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes((np.sin(np.arange(6000) / 5) * 8000).astype("<i2").tobytes())  # 0.27 s: no 400 ms block
    assert audio.loudness(path) == -70.0
    assert audio.meter([np.zeros(22050 * 3)], 22050).loudness() == -70.0


def ffmpeg_pcm(path) -> np.ndarray:
    return np.concatenate(list(audio._pcm(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1",
                                           "-f", "f32le", "-"], "test")))


def test_the_mp3_peak_check_decodes_as_ffmpeg_does_to_the_last_sample(tmp_path):
    """The build checks each published MP3's true peak on libmpg123's decode, in this process: the same samples
    as ffmpeg's (the same number; each within 1e-5 of full scale, which MPG123_SLACK_DB covers), read never
    lower. The loud burst is at the end, past the first piece, so a lost last piece would hide it."""
    mp3 = lavfi(tmp_path, "late-burst.mp3", "anoisesrc=c=pink:r=44100:a=0.05:d=30:s=5",
                "-af", "volume=enable='gt(t,29.5)':volume=30", "-c:a", "libmp3lame", "-b:a", "64k")
    want = ffmpeg_pcm(mp3)
    got = np.concatenate(list(audio._mp3_pcm(audio._mpg123(), mp3)))
    assert len(want) > audio.CHUNK and len(got) == len(want)
    assert np.abs(got - want).max() <= 1e-5
    ffmpeg_peak = audio.meter([want], 0, loudness=False, true_peak=True).peak_db()
    assert ffmpeg_peak > -1.1  # over the build's ceiling: a published file like it is encoded again
    assert ffmpeg_peak <= audio.true_peak(mp3) <= ffmpeg_peak + 0.01
    assert audio.true_peak(mp3) == pytest.approx(ffmpeg_r128(mp3)[1], abs=0.1)


def test_the_peak_check_falls_back_to_ffmpeg_without_libmpg123_or_for_stereo(tmp_path, monkeypatch):
    stereo = lavfi(tmp_path, "stereo.mp3", "anoisesrc=c=pink:r=44100:a=0.3:d=3:s=2", "-ac", "2",
                   "-c:a", "libmp3lame", "-b:a", "96k")
    mono = lavfi(tmp_path, "mono.mp3", "anoisesrc=c=pink:r=44100:a=0.3:d=3:s=2", "-c:a", "libmp3lame")
    assert audio.true_peak(stereo) == audio.meter([ffmpeg_pcm(stereo)], 0, loudness=False, true_peak=True).peak_db()
    monkeypatch.setattr(audio, "_mpg123", lambda: None)  # as on a machine without the library
    assert audio.true_peak(mono) == audio.meter([ffmpeg_pcm(mono)], 0, loudness=False, true_peak=True).peak_db()
    assert audio.peak_decoder.__wrapped__() == "ffmpeg"


@pytest.mark.parametrize("keep", [0, 100])
def test_an_mp3_cut_before_its_first_sound_is_an_error_not_a_silent_pass(tmp_path, keep):
    """A full disk can leave a published MP3 empty or cut inside its first frame: no samples is no peak
    checked, an error (encode_mp3 then says the disk is full)."""
    whole = lavfi(tmp_path, "whole.mp3", "anoisesrc=r=44100:a=0.3:d=1", "-c:a", "libmp3lame", "-b:a", "64k")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[:keep])
    with pytest.raises(audio.AudioError, match="cut.mp3") as e:
        audio.true_peak(cut)
    assert str(e.value) == ("libmpg123 failed while measuring the peak of cut.mp3: no audio\n"
                            "Probable cause: a broken or empty MP3 file\nFix: build again with --clean")


def test_a_48_khz_mp3_is_checked_on_the_samples_ffmpeg_decodes(tmp_path):
    """A guide built at 48 kHz: libmpg123 decodes it at its own rate, sample for sample as ffmpeg does (not
    resampled, which would move the peak it reads)."""
    mp3 = lavfi(tmp_path, "48k.mp3", "anoisesrc=c=pink:r=48000:a=0.3:d=2:s=4", "-c:a", "libmp3lame", "-b:a", "64k")
    want = ffmpeg_pcm(mp3)
    got = np.concatenate(list(audio._mp3_pcm(audio._mpg123(), mp3)))
    assert len(got) == len(want) and np.abs(got - want).max() <= 1e-5


def test_a_damaged_mp3_is_checked_without_the_decoders_notes_in_the_volunteers_terminal(tmp_path, capfd):
    """libmpg123 would print "Note: Illegal Audio-MPEG-Header … Trying to resync…" on the build's terminal."""
    whole = lavfi(tmp_path, "whole.mp3", "sine=f=440:r=48000:d=1", "-c:a", "libmp3lame", "-b:a", "64k")
    data = bytearray(whole.read_bytes())
    data[2000:2600] = bytes((i * 97 + 13) % 256 for i in range(600))
    (tmp_path / "damaged.mp3").write_bytes(bytes(data))
    capfd.readouterr()
    assert audio.true_peak(tmp_path / "damaged.mp3") > -120
    assert capfd.readouterr().err == ""


def test_checking_many_mp3_peaks_does_not_grow_the_memory(tmp_path):
    """The studio's server and a catalogue build check MP3s for hours in one process: each check frees its
    libmpg123 decoder (~80 kB each, 8 MB for these 100 checks, if it did not)."""
    mp3 = lavfi(tmp_path, "short.mp3", "sine=r=22050:d=0.2", "-c:a", "libmp3lame")

    def resident() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096

    for _ in range(20):
        audio.true_peak(mp3)
    before = resident()
    for _ in range(100):
        audio.true_peak(mp3)
    assert resident() - before < 3_000_000


def test_crests_three_quarters_of_the_way_between_samples_read_at_their_true_height(tmp_path):
    """A tone of an eighth of the rate whose every crest falls 3/4 of the way from one sample to the next: the
    samples read 0.17 dB under the crest, the 4x true peak reads the crest itself, as ffmpeg's does."""
    path = tmp_path / "crests.wav"
    n = np.arange(22050 * 2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        fade = np.clip(np.minimum(n, n[-1] - n) / 2205, 0, 1)  # 0.1 s in and out: no overshoot at the ends
        w.writeframes(np.round(16384 * fade * np.cos(2 * np.pi * (n - 0.75) / 8)).astype("<i2").tobytes())
    samples = 20 * np.log10(np.cos(2 * np.pi * 0.25 / 8) / 2)
    lufs, tp = ours(path)
    assert tp == pytest.approx(20 * np.log10(0.5), abs=0.02) and tp > samples + 0.15
    assert tp == pytest.approx(ffmpeg_r128(path)[1], abs=0.05)
