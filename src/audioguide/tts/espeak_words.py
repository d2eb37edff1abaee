"""espeak-ng's word timings, from its library: `python -I -S espeak_words.py VOICE RATE PITCH [AUDIO.raw]`,
the text on stdin; prints [[character offset, seconds], …], one pair per word, as JSON.

A process of its own for each text: the library keeps state from one synthesis to the next (the second text of
a process comes out a few samples longer or shorter), while its first synthesis, with the command line's flags,
is the command line's audio sample for sample (tests/test_timing.py checks it). Only the standard library is
imported, so the process starts in a few tens of milliseconds.
"""

import ctypes
import json
import sys


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_void_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
SYNCHRONOUS, EVENT_LIST_END, EVENT_WORD, RATE, PITCH, POS_CHARACTER = 2, 0, 1, 1, 3, 1
# The command line's own flags (espeak-ng.c): UTF-8 text, [[…]] phoneme input, the pause after the last sentence.
CHARS_UTF8, PHONEMES, ENDPAUSE = 1, 0x100, 0x1000


def synth(text: str, voice: str, rate: int, pitch: int) -> tuple[bytes, list[list[float]]]:
    lib = ctypes.CDLL("libespeak-ng.so.1")
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    hz = lib.espeak_Initialize(SYNCHRONOUS, 0, None, 0)
    if hz <= 0:
        raise OSError(f"espeak_Initialize failed ({hz})")
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
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise OSError(f"no espeak-ng voice {voice!r}")
    lib.espeak_SetParameter(RATE, rate, 0)
    lib.espeak_SetParameter(PITCH, pitch, 0)
    data = text.encode("utf-8") + b"\0"
    if lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8 | PHONEMES | ENDPAUSE, None, None):
        raise OSError("espeak_Synth failed")
    return bytes(audio), words


if __name__ == "__main__":
    pcm, timed = synth(sys.stdin.buffer.read().decode("utf-8"), sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
    if len(sys.argv) > 4:
        with open(sys.argv[4], "wb") as fh:
            fh.write(pcm)
    print(json.dumps(timed))
