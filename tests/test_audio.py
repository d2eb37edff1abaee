"""Loudness: what a listener hears is at the target level, measured by ffmpeg's EBU R128 meter on real speech."""

import re
import subprocess

import pytest

from audioguide.audio import ENCODER_LOSS_DB, encode_mp3, gain_to, loudness_gain, measure_loudness
from audioguide.config import BuildSettings

from conftest import needs_tools, tmpfs

pytestmark = [needs_tools]
WINDOW_LU = 0.5  # tight: without the limiter's make-up gain chapters land ~0.7 LU low, inside a ±1 LU window


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """Real espeak-ng speech, loud consonants and all: its peaks make the limiter work."""
    wav = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(wav),
                    "Bonjour. Votre dossier médical partagé garde vos ordonnances, vos analyses et vos comptes-rendus. "
                    "Appelez le quinze en cas d'urgence, de jour comme de nuit."], check=True)
    return wav


def test_the_limiters_loss_is_made_up(speech, tmp_path, caplog):
    s = BuildSettings()
    raw, _ = measure_loudness(speech)
    plain = gain_to(s.loudness_lufs + ENCODER_LOSS_DB, raw)
    caplog.set_level("DEBUG", logger="audioguide.audio")
    gain = loudness_gain(speech, s)
    # What `audioguide -vv build` says of each chapter's levelling.
    assert re.search(r"speech\.wav: -1\d\.\d LUFS through the limiter at \+\d\.\d\d dB, \+\d\.\d\d dB more "
                     rf"\(target {s.loudness_lufs + ENCODER_LOSS_DB:.1f}\)\.", caplog.text), caplog.text
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


# --- the chimes and the failures a volunteer reads ----------------------------------------------------------------

def _spectrum_peak(pcm, lo: float, hi: float) -> float:
    """The strongest magnitude of `pcm` (16-bit samples at RATE) between lo and hi Hz."""
    import numpy as np

    from audioguide.tts.base import RATE

    x = np.asarray(pcm, float) * np.hanning(len(pcm))
    mag = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(mag[(freqs >= lo) & (freqs <= hi)].max())


def test_the_chapter_chime_fades_in_and_rings_with_its_octave():
    """A chime that starts at full level clicks; its note is the fundamental plus a softer octave (0.3)."""
    from array import array

    from audioguide.audio import earcon
    from audioguide.tts.base import RATE

    pcm = array("h", earcon("chapter"))
    note = pcm[:int(RATE * 0.14)]  # the first note, C5 (523 Hz), 140 ms
    peak = max(abs(v) for v in note)
    assert max(abs(v) for v in note[:int(RATE * 0.002)]) < 0.25 * peak  # 10 ms fade-in: no click
    assert max(abs(v) for v in note[int(RATE * 0.02):int(RATE * 0.05)]) > 0.9 * peak
    assert len(pcm) == 3 * (int(RATE * 0.14) + int(RATE * 0.02))
    f0, octave = _spectrum_peak(note, 500, 545), _spectrum_peak(note, 1020, 1070)
    assert 0.2 < octave / f0 < 0.4
    assert _spectrum_peak(note, 30, 300) < 0.05 * f0


def test_ffmpeg_failing_on_a_broken_file_is_explained(tmp_path):
    from audioguide.exceptions import AudioError

    bad = tmp_path / "chapitre.wav"
    bad.write_bytes(b"RIFF not really audio")
    with pytest.raises(AudioError) as e:
        encode_mp3(bad, tmp_path / "chapitre.mp3", BuildSettings(), 0.0)
    text = str(e.value)
    assert "ffmpeg failed while encoding chapitre.mp3" in text
    assert "\nProbable cause: a broken input file or an ffmpeg build without libmp3lame\n" in text
    with pytest.raises(AudioError, match="^ffmpeg failed while measuring chapitre.wav: "):
        measure_loudness(bad)
    with pytest.raises(AudioError, match="^ffmpeg failed while measuring the peak of chapitre.wav: "):
        __import__("audioguide.audio").audio.true_peak(bad)


def test_a_folder_ffmpeg_may_not_write_is_named_with_the_fix(tmp_path):
    """No file can be made in /sys, even as root: ffmpeg says "Permission denied" (or "Read-only file system"),
    which the volunteer reads as a folder to fix, not as an ffmpeg failure."""
    from audioguide.audio import WavWriter
    from audioguide.exceptions import PublishError

    wav = WavWriter(tmp_path / "w.wav")
    wav.add(bytes(4000))
    wav.close()
    with pytest.raises(PublishError) as e:
        encode_mp3(tmp_path / "w.wav", __import__("pathlib").Path("/sys/chapitre.mp3"), BuildSettings(), 0.0)
    assert "Cannot write /sys: permission denied or read-only folder." in str(e.value)
    assert "writable --out folder" in str(e.value)


def test_a_chapter_that_cannot_be_assembled_names_the_cache_folder(tmp_path):
    """Chapters are assembled under the cache's work/ folder: a failure there is the cache's, named as such."""
    from audioguide.audio import WavWriter
    from audioguide.exceptions import PublishError

    work = tmp_path / "cache" / "work"
    with pytest.raises(PublishError) as e:
        WavWriter(work / "missing" / "chapitre.wav")  # its folder does not exist
    assert f"Cannot write the clip cache {tmp_path / 'cache'}:" in str(e.value)


def test_pauses_between_clips_last_as_long_as_asked(tmp_path):
    """A 700 ms pause between two sentences is 700 ms of digital silence, as ffmpeg's silencedetect measures it;
    the engine's own silence at a clip's edges is trimmed to 20 ms so our pauses are the ones heard."""
    import re
    import subprocess as sp
    import wave as wv
    from array import array

    from audioguide.audio import WavWriter, silence
    from audioguide.tts.base import RATE

    clip = tmp_path / "clip.wav"
    tone = array("h", [0] * (RATE // 2) + [8000 if (i // 25) % 2 else -8000 for i in range(RATE // 2)]
                 + [0] * (RATE // 2))
    with wv.open(str(clip), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(tone.tobytes())
    out = WavWriter(tmp_path / "chapitre.wav")
    skipped = out.add_clip(clip)
    out.add(silence(700))
    out.add_clip(clip)
    out.close()
    assert skipped == pytest.approx(0.5 - 0.02, abs=1e-4)  # the engine's leading silence, less 20 ms kept
    assert out.seconds == pytest.approx(2 * (0.5 + 0.04) + 0.7, abs=1e-3)
    proc = sp.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", str(tmp_path / "chapitre.wav"), "-af",
                   "silencedetect=n=-60dB:d=0.01", "-f", "null", "-"], capture_output=True, text=True)
    gaps = [float(d) for d in re.findall(r"silence_duration: ([\d.]+)", proc.stderr)]
    # the first clip's 20 ms lead-in, its tail and the pause and the next lead-in, the last tail
    assert gaps == [pytest.approx(0.02, abs=0.003), pytest.approx(0.74, abs=0.003), pytest.approx(0.02, abs=0.003)]


@pytest.fixture(scope="module", params=[(64, 44100), (32, 44100), (48, 48000)],
                ids=["64k-44.1kHz", "32k-44.1kHz", "48k-48kHz"])
def two_mp3(tmp_path_factory, request):
    """Two short chapters encoded as the build encodes them (an Info header frame first), at the usual
    settings, at the lowest bitrate (whose frames are too short for the Info frame) and at another rate."""
    import math
    from array import array

    from audioguide.audio import WavWriter
    from audioguide.tts.base import RATE

    tmp = tmp_path_factory.mktemp("mp3")
    out = []
    for n, seconds in ((1, 1.0), (2, 2.5)):
        w = WavWriter(tmp / f"{n}.wav")
        w.add(array("h", (int(6000 * math.sin(2 * math.pi * 330 * i / RATE)) for i in range(int(RATE * seconds))))
              .tobytes())
        w.close()
        settings = BuildSettings(bitrate_kbps=request.param[0], sample_rate=request.param[1])
        encode_mp3(tmp / f"{n}.wav", tmp / f"{n}.mp3", settings, 0.0)
        out.append(tmp / f"{n}.mp3")
    return out


def _packets(path) -> int:
    """Audio frames as ffprobe counts them (the Info header frame is not audio)."""
    proc = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "a:0", "-show_entries",
                           "stream=nb_read_packets", "-of", "csv=p=0", str(path)], capture_output=True, text=True)
    return int(proc.stdout.strip())


def test_the_whole_guide_joins_the_chapters_frame_for_frame(two_mp3, tmp_path):
    """The whole-guide MP3: every chapter's audio frames, no chapter's header frame in the middle, and chapter
    marks where each chapter starts; an ID3v1 tag at the end of a chapter is left out."""
    from mutagen.mp3 import MP3

    from audioguide.audio import SAMPLES_PER_FRAME, concat_mp3

    tagged = tmp_path / "2.mp3"
    tagged.write_bytes(two_mp3[1].read_bytes() + b"TAG" + bytes(125))  # an ID3v1 tag, as some editors add
    whole = tmp_path / "whole.mp3"
    durations = concat_mp3([two_mp3[0], tagged], whole)
    frames = [_packets(p) for p in two_mp3]
    rate = MP3(two_mp3[0]).info.sample_rate
    assert durations == [f * SAMPLES_PER_FRAME / rate for f in frames]
    assert _packets(whole) == sum(frames)
    assert b"TAG" not in whole.read_bytes()[-128:]
    assert whole.read_bytes().count(b"Info") == 1  # the joined file's own header frame only
    # Players read the length from that header frame, without scanning: the sum of the chapters, exactly.
    assert MP3(whole).info.length == pytest.approx(sum(durations), abs=1e-9)


def test_chapters_tagged_with_their_cover_join_frame_for_frame(two_mp3, tmp_path):
    """Published chapters carry an ID3v2 tag with the guide's cover (tens of kB): the whole guide takes their audio
    frames only, as from untagged ones."""
    from mutagen.id3 import APIC, ID3, TIT2

    from audioguide.audio import concat_mp3

    parts = []
    for i, src in enumerate(two_mp3):
        part = tmp_path / f"tagged{i}.mp3"
        part.write_bytes(src.read_bytes())
        tags = ID3()
        tags.add(TIT2(encoding=3, text=f"Chapitre {i + 1}"))
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="", data=bytes(range(256)) * 120))  # 30 kB
        tags.save(part)
        parts.append(part)
    assert parts[0].read_bytes()[:3] == b"ID3" and parts[0].stat().st_size > two_mp3[0].stat().st_size + 30000
    durations = concat_mp3(parts, tmp_path / "whole.mp3")
    assert durations == concat_mp3(two_mp3, tmp_path / "plain.mp3")
    assert (tmp_path / "whole.mp3").read_bytes() == (tmp_path / "plain.mp3").read_bytes()


def test_outputs_made_in_the_limiter_pass_get_the_chapter_and_leave_its_loudness_as_measured(speech, tmp_path):
    """The phone sounds are made in the chapter's limiter pass (one ffmpeg run): each chain gets the chapter's
    samples, its files are written before `finish` runs, and the loudness read is the same as without them."""
    from audioguide.audio import Tap, limited_loudness

    finished = []
    chains = [("aresample=8000", "narrow"), ("volume=-6dB", "quiet")]
    outputs = ["-map", "[narrow]", str(tmp_path / "narrow.wav"), "-map", "[quiet]", str(tmp_path / "quiet.wav")]
    tap = Tap(chains, outputs, lambda: finished.append(sorted(p.name for p in tmp_path.iterdir())))
    assert limited_loudness(speech, 6.0, taps=[tap]) == limited_loudness(speech, 6.0)
    assert finished == [["narrow.wav", "quiet.wav"]]
    raw, _ = measure_loudness(speech)
    assert measure_loudness(tmp_path / "quiet.wav")[0] == pytest.approx(raw - 6, abs=0.1)
    assert measure_loudness(tmp_path / "narrow.wav")[0] == pytest.approx(raw, abs=1.5)  # speech over 4 kHz gone


def test_a_damaged_chapter_mp3_is_named_with_the_byte_and_the_fix(two_mp3, tmp_path):
    from audioguide.audio import concat_mp3
    from audioguide.exceptions import AudioError

    bad = tmp_path / "chapitre.mp3"
    data = bytearray(two_mp3[0].read_bytes())
    start = len(data)
    data += b"JUNK" + bytes(400)  # after the last frame: neither a frame nor an ID3v1 tag
    bad.write_bytes(bytes(data))
    with pytest.raises(AudioError) as e:
        concat_mp3([two_mp3[1], bad], tmp_path / "whole.mp3")
    assert str(e.value).startswith(f"chapitre.mp3: not an MPEG-1 Layer III frame at byte {start}\n")
    assert "\nProbable cause: the file was changed or damaged after encoding\nFix: build again with --clean" \
        in str(e.value)


def test_an_empty_chapter_first_still_makes_a_whole_guide_players_read(two_mp3, tmp_path):
    """A chapter with no audio frames takes no time; the joined file's header frame is still a valid one."""
    from mutagen.mp3 import MP3

    from audioguide.audio import concat_mp3

    empty = tmp_path / "vide.mp3"
    empty.write_bytes(b"")
    whole = tmp_path / "whole.mp3"
    durations = concat_mp3([empty, two_mp3[0]], whole)
    assert durations[0] == 0.0 and durations[1] == concat_mp3([two_mp3[0]], tmp_path / "one.mp3")[0]
    assert _packets(whole) == _packets(two_mp3[0])
    assert MP3(whole).info.length == pytest.approx(durations[1], abs=1e-9)


def test_a_clip_of_another_format_or_unreadable_is_named_with_the_cause(tmp_path):
    """The last guard when a chapter is assembled: the volunteer reads which clip, why, and what to do."""
    import wave as wv

    from audioguide.audio import WavWriter
    from audioguide.exceptions import AudioError

    phone = tmp_path / "phone.wav"
    with wv.open(str(phone), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(1600))
    out = WavWriter(tmp_path / "chapitre.wav")
    with pytest.raises(AudioError) as e:
        out.add_clip(phone)
    assert str(e.value) == ("clip phone.wav is not mono 16-bit 22050 Hz\n"
                            "Probable cause: a speech engine returned audio in another format\n"
                            "Fix: clear the clip cache (audioguide build --clean)")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(AudioError) as e:
        out.add_clip(broken)
    assert str(e.value).startswith(f"clip {broken} cannot be read (")
    assert str(e.value).endswith("\nProbable cause: the clip cache was changed or damaged during the build\n"
                                 "Fix: build again (damaged clips are made again), or use --clean")
    out.close()


def test_an_mp3_over_the_ceiling_is_caught_and_encoded_again(speech, tmp_path, monkeypatch, caplog):
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
    caplog.set_level("DEBUG", logger="audioguide.audio")
    encode_mp3(speech, mp3, s, 14.0)
    assert len(encodes) >= 2
    assert "loud.mp3: true peak " in caplog.text and " dB over the ceiling; encoding again" in caplog.text
    lufs, tp = measure_loudness(mp3, true_peak=True)
    assert tp is not None and tp <= s.true_peak_db
    # Limited again by the excess and a small margin: the peak lands just under the ceiling (-1.6 dBTP here),
    # not a dB lower, which would squash the speech more than needed.
    assert tp >= s.true_peak_db - 0.8 and lufs == pytest.approx(s.loudness_lufs, abs=0.1)


@pytest.mark.french
def test_an_mp3_cut_short_by_a_full_disk_is_said_as_such_and_not_kept(tmp_path):
    """ffmpeg exits 0 when a full disk stops it only at its trailer (here a 10 s chapter, ~80 kB, on 64 kB): the
    cut MP3 was kept as if whole (`audioguide listen --out`, the DAISY book's title). Now the volunteer reads
    that the disk is full, and nothing is left there."""
    from audioguide.exceptions import PublishError
    from audioguide.files import atomic_path

    wav = tmp_path / "chapitre.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:r=22050:d=10", "-ac", "1", str(wav)],
                   check=True)
    with tmpfs(tmp_path / "disk", "64k") as disk:
        with pytest.raises(PublishError) as e, atomic_path(disk / "page.mp3") as part:
            encode_mp3(wav, part, BuildSettings(), 0.0)
        assert str(e.value).startswith(f"Impossible d'écrire {disk} : le disque est plein."), str(e.value)
        assert list(disk.iterdir()) == []


def test_a_nearly_silent_chapter_is_raised_by_30_db_at_most(tmp_path):
    """A chapter at -55 LUFS (a recording made far from the microphone) is brought up 30 dB, not to the target:
    more would bring its background noise up with it."""
    wav = tmp_path / "faint.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=1000:r=22050:d=5", "-af", "volume=-34dB",
                    "-ac", "1", str(wav)], check=True)
    s = BuildSettings()
    raw, _ = measure_loudness(wav)
    assert raw == pytest.approx(-55, abs=0.5)
    gain = loudness_gain(wav, s)
    assert gain == 30.0
    encode_mp3(wav, tmp_path / "faint.mp3", s, gain)
    assert measure_loudness(tmp_path / "faint.mp3")[0] == pytest.approx(raw + 30 - ENCODER_LOSS_DB, abs=0.3)


@pytest.mark.french
def test_without_ffmpeg_the_build_says_it_is_not_installed_and_how_to_install_it(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from audioguide.cli import cli

    from conftest import DATA

    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    res = CliRunner().invoke(cli, ["build", str(DATA / "mini"), "--out", str(tmp_path / "out"), "--cache",
                                   str(tmp_path / "cache"), "--engine", "silence"])
    assert res.exit_code == 4 and "Traceback" not in res.output
    assert "ffmpeg not found.\nCause probable : ffmpeg is not installed\n" in res.output, res.output
    assert "apt-get install ffmpeg" in res.output and not (tmp_path / "out").exists()
