"""espeak-ng from its library: `python -I -S espeak_words.py VOICE RATE PITCH [AUDIO.raw]`, the text on stdin,
prints [[character offset, seconds], …], one pair per word, as JSON; `python -I -S espeak_words.py --serve`
answers many texts (see serve()) without a Python start-up for each.

One process for each text: the library keeps state from one synthesis to the next (the second text of a process
comes out a few samples longer or shorter, even after espeak_Terminate and espeak_Initialize again), while its
first synthesis, with the command line's flags, is the command line's audio sample for sample
(tests/test_timing.py checks it). The server initialises the library once and forks a child for each text: each
child starts from that same fresh state, for a fork's cost. Only the standard library is imported.
"""

import ctypes
import json
import os
import signal
import sys


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_void_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
SYNCHRONOUS, EVENT_LIST_END, EVENT_WORD, RATE, PITCH, POS_CHARACTER = 2, 0, 1, 1, 3, 1
# The command line's own flags (espeak-ng.c): UTF-8 text, [[…]] phoneme input, the pause after the last sentence.
CHARS_UTF8, PHONEMES, ENDPAUSE = 1, 0x100, 0x1000


def load() -> tuple[ctypes.CDLL, int]:
    """The library, initialised: (library, its sample rate)."""
    lib = ctypes.CDLL("libespeak-ng.so.1")
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    hz = lib.espeak_Initialize(SYNCHRONOUS, 0, None, 0)
    if hz <= 0:
        raise OSError(f"espeak_Initialize failed ({hz})")
    return lib, hz


def synth(text: str, voice: str, rate: int, pitch: int, loaded: tuple[ctypes.CDLL, int] | None = None,
          voice_set: bool = False) -> tuple[bytes, list[list[float]]]:
    """The first synthesis after load() (and the voice's setting, when `voice_set`): a second one in the same
    process would not be the command line's."""
    lib, hz = loaded or load()
    audio, words = bytearray(), []

    def on_audio(wav, n, events):
        if wav and n > 0:
            audio.extend(ctypes.string_at(wav, n * 2))
        i = 0
        while events[i].type != EVENT_LIST_END:
            e = events[i]
            if e.type == EVENT_WORD and e.length > 0:  # the last event of a text is an empty "word"
                words.append([e.text_position - 1, round(e.sample / hz, 6)])
            i += 1
        return 0

    callback = _CALLBACK(on_audio)
    lib.espeak_SetSynthCallback(callback)
    if not voice_set and lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise OSError(f"no espeak-ng voice {voice!r}")
    lib.espeak_SetParameter(RATE, rate, 0)
    lib.espeak_SetParameter(PITCH, pitch, 0)
    data = text.encode("utf-8") + b"\0"
    if lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8 | PHONEMES | ENDPAUSE, None, None):
        raise OSError("espeak_Synth failed")
    return bytes(audio), words


def serve() -> None:
    """Requests on stdin: a JSON line [voice, rate, pitch, n], then n bytes of UTF-8 text. Each answer on stdout:
    a JSON line {"words": [...], "samples": n, "rate": hz} then n bytes of 16-bit mono samples, or
    {"error": "..."}. Each text is spoken in a forked child, from the state load() left: the command line's audio."""
    loaded, ready = load(), None
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    for line in inp:
        voice, rate, pitch, n = json.loads(line)
        text = inp.read(n).decode("utf-8")
        if ready is None:  # the first text's voice, loaded once here (its dictionary): the children start from it
            ready = voice if loaded[0].espeak_SetVoiceByName(voice.encode()) == 0 else ""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: speak, hand back everything through the pipe, never return into the loop
            code = 1
            try:
                os.close(r)
                signal.alarm(120)  # a text that hangs the library ends as an error, not a stuck build
                pcm, timed = synth(text, voice, rate, pitch, loaded, voice == ready)
                data = json.dumps({"words": timed, "samples": len(pcm), "rate": loaded[1]}).encode() + b"\n" + pcm
                view = memoryview(data)
                while view:
                    view = view[os.write(w, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        chunks = []
        while chunk := os.read(r, 1 << 20):
            chunks.append(chunk)
        os.close(r)
        status = os.waitpid(pid, 0)[1]
        data = b"".join(chunks)
        if status != 0 or b"\n" not in data:
            data = json.dumps({"error": f"the library failed on this text (wait status {status})"}).encode() + b"\n"
        out.write(data)
        out.flush()


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    serve()
elif __name__ == "__main__":
    pcm, timed = synth(sys.stdin.buffer.read().decode("utf-8"), sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
    if len(sys.argv) > 4:
        with open(sys.argv[4], "wb") as fh:
            fh.write(pcm)
    print(json.dumps(timed))
