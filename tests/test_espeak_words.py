"""espeak_words.py, the word times of espeak-ng's library, run in this process and in fresh ones: the audio is the
command line's, sample for sample, and each word's time is where its speech starts. The builds run it as its own
`python -I -S` process; here it is imported, so that mutation testing can reach it (see script/mutation)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audioguide.tts import espeak_words

from conftest import have_tools

pytestmark = pytest.mark.skipif(not have_tools(), reason="espeak-ng: script/bootstrap")
TEXT = "Bonjour. Appelez votre médecin traitant, avant vendredi : c'est l'essentiel !"
OTHER = "Le numéro d'urgence est le 15."


def command_line(text: str, voice: str = "fr", rate: int = 145, pitch: int = 50) -> bytes:
    """The samples of `espeak-ng --stdout` (its WAV without the 44-byte header)."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "--stdout", text],
                         capture_output=True, check=True).stdout
    assert wav[:4] == b"RIFF" and wav[36:40] == b"data"
    return wav[44:]


def fresh(code: str, stdin: bytes = b"") -> bytes:
    """Runs `code` in a new Python process that imports this process's audioguide (under mutation testing, the
    mutant): a fresh library, as in a build."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run([sys.executable, "-c", "import sys\nfrom audioguide.tts import espeak_words as e\n" + code],
                          input=stdin, capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def word_starts(text: str) -> list[int]:
    return [m.start() for m in re.finditer(r"[\w']+", text)]


def speech_starts(pcm: bytes, hz: int, quiet_s: float = 0.12) -> list[float]:
    """Where sound resumes after each silence of at least quiet_s (10 ms frames under -40 dBFS), and the first sound."""
    y = np.frombuffer(pcm, "<i2").astype(float) / 32768
    frame = hz // 100
    loud = [float(np.max(np.abs(y[i:i + frame]))) > 0.01 for i in range(0, len(y) - frame, frame)]
    starts, quiet = [], len(loud)
    for i, on in enumerate(loud):
        if on and quiet * 0.01 >= quiet_s or on and not starts:
            starts.append(i * 0.01)
        quiet = 0 if on else quiet + 1
    return starts


@pytest.mark.parametrize("voice,rate,pitch", [("fr", 145, 50), ("fr", 210, 80)])
def test_a_fresh_library_speaks_the_command_lines_very_samples(voice, rate, pitch):
    """The first synthesis of a process, with the command line's flags and the voice's rate and pitch, is the
    command line's audio sample for sample: the captions' word times are those of the published clip."""
    line = command_line(TEXT, voice, rate, pitch)
    out = fresh(f"sys.stdout.buffer.write(e.synth({TEXT!r}, {voice!r}, {rate}, {pitch})[0])")
    assert out == line
    # In this process (the library has spoken before): the same speech, give or take a few samples.
    pcm, words = espeak_words.synth(TEXT, voice, rate, pitch)
    assert abs(len(pcm) - len(line)) <= 0.001 * len(line)
    assert [pos for pos, _ in words] == word_starts(TEXT)


def test_each_word_has_its_character_offset_and_the_time_its_speech_starts():
    """Offsets count characters, not UTF-8 bytes (« médecin » moves "traitant" by one byte, not one character);
    a word after a pause is timed where the sound resumes; times grow and end inside the audio."""
    pcm, words = espeak_words.synth(TEXT, "fr", 145, 50)
    assert [pos for pos, _ in words] == word_starts(TEXT)
    assert [TEXT[pos:].split()[0].strip(",.!:") for pos, _ in words][2:5] == ["votre", "médecin", "traitant"]
    times = [t for _, t in words]
    assert times == sorted(set(times)) and times[0] >= 0 and times[-1] < len(pcm) / 2 / 22050
    resumes = speech_starts(pcm, 22050)
    after_bonjour = min((r for r in resumes if r > times[0] + 0.3), key=lambda r: abs(r - times[1]))
    assert abs(times[1] - after_bonjour) <= 0.06, (times[1], resumes)
    # The rate is the voice's: at 210 words a minute the same words end sooner.
    fast = espeak_words.synth(TEXT, "fr", 210, 50)
    assert len(fast[0]) < 0.8 * len(pcm) and fast[1][-1][1] < 0.8 * times[-1]


def test_an_unknown_voice_is_refused_by_name():
    with pytest.raises(OSError, match="zz-aucune"):
        espeak_words.synth(TEXT, "zz-aucune", 145, 50)


def dead_children() -> set[int]:
    """This process's children that ended and were not waited for (zombies)."""
    out = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                    out.add(int(pid))
    return out


def serve_answers(requests: list[tuple[str, str]], monkeypatch) -> list[tuple[dict, bytes]]:
    """serve() in this process, on the wire format the engine writes; its answers, read back. It leaves no dead
    child behind (a build sends it thousands of texts), and only its forked children may end the process."""
    data = b"".join(json.dumps([voice, 145, 50, len(t.encode())]).encode() + b"\n" + t.encode()
                    for voice, t in requests)
    stdin, stdout = io.TextIOWrapper(io.BytesIO(data)), io.TextIOWrapper(io.BytesIO())
    me, real_exit = os.getpid(), os._exit

    def exit_child_only(code):
        if os.getpid() == me:
            raise AssertionError(f"the server itself would have ended (exit {code})")
        real_exit(code)

    monkeypatch.setattr(os, "_exit", exit_child_only)
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", stdout)
    before = dead_children()
    espeak_words.serve()
    monkeypatch.undo()
    assert dead_children() <= before
    return read_answers(stdout.buffer.getvalue(), len(requests))


def read_answers(raw: bytes, n: int) -> list[tuple[dict, bytes]]:
    answers = []
    for _ in range(n):
        head, _, raw = raw.partition(b"\n")
        meta = json.loads(head)
        size = meta.get("samples", 0)
        answers.append((meta, raw[:size]))
        raw = raw[size:]
    assert raw == b""
    return answers


def test_the_server_speaks_each_text_from_the_same_state_and_refuses_a_bad_one_alone(monkeypatch):
    """The same text twice gives the same bytes (each child starts from the state the server loaded); a voice
    the library lacks is an error for that text only, and the next text is spoken."""
    (a1, p1), (b, pb), (a2, p2), (bad, _), (a3, p3) = serve_answers(
        [("fr", TEXT), ("fr", OTHER), ("fr", TEXT), ("zz-aucune", OTHER), ("fr", TEXT)], monkeypatch)
    assert p1 == p2 == p3 and a1 == a2 == a3 and pb != p1
    assert a1["rate"] == 22050 and a1["samples"] == len(p1) > 22050
    assert [pos for pos, _ in a1["words"]] == word_starts(TEXT)
    assert [pos for pos, _ in b["words"]] == word_starts(OTHER)
    assert set(bad) == {"error"} and "failed" in bad["error"]


def test_a_fresh_server_answers_with_the_command_lines_samples(monkeypatch):
    """As a build runs it: a new process, texts on its stdin; each answer is the command line's audio. (Also in
    this process, so that mutation testing knows this test runs serve().)"""
    req = b"".join(json.dumps(["fr", 145, 50, len(t.encode())]).encode() + b"\n" + t.encode() for t in (TEXT, OTHER))
    (a, pa), (b, pb) = read_answers(fresh("e.serve()", req), 2)
    assert pa == command_line(TEXT) and pb == command_line(OTHER)
    assert [pos for pos, _ in b["words"]] == word_starts(OTHER)
    [(here, _)] = serve_answers([("fr", OTHER)], monkeypatch)  # a library that spoke before: a few samples off
    assert [pos for pos, _ in here["words"]] == [pos for pos, _ in b["words"]]


def test_a_server_whose_first_text_has_an_unknown_voice_refuses_it_and_speaks_the_next(monkeypatch):
    """The voice the server loads once is the first text's; a voice it could not load is not taken as loaded."""
    (bad, _), (ok, pcm) = serve_answers([("zz-aucune", TEXT), ("fr", TEXT)], monkeypatch)
    assert set(bad) == {"error"}
    assert [pos for pos, _ in ok["words"]] == word_starts(TEXT) and len(pcm) == ok["samples"] > 22050
