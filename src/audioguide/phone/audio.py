"""Telephony audio: band-limited, levelled, in every format Asterisk and VoiceXML servers play."""

from __future__ import annotations

import contextlib
import errno
import struct
import wave
from pathlib import Path

from audioguide.audio import _run, ffmpeg_exe
from audioguide.exceptions import AudioError
from audioguide.files import atomic_path, explain_os_error, nearly_full

# Extension -> (sample rate, ffmpeg codec and muxer). Asterisk picks the cheapest one for each call's codec.
FORMATS = {
    "sln": (8000, ["-c:a", "pcm_s16le", "-f", "s16le"]),   # signed linear 8 kHz, Asterisk's native
    "wav": (8000, ["-c:a", "pcm_s16le", "-f", "wav"]),     # 8 kHz 16-bit WAV: Asterisk and VoiceXML browsers
    "ulaw": (8000, ["-c:a", "pcm_mulaw", "-f", "mulaw"]),  # G.711 μ-law
    "alaw": (8000, ["-c:a", "pcm_alaw", "-f", "alaw"]),    # G.711 A-law (Europe)
    "g722": (16000, ["-c:a", "g722", "-f", "g722"]),       # wideband (HD voice)
}
PHONE_LUFS = -19.0  # a little under the podcast level: phone networks clip hot prompts
# What the band filters take from the measured loudness of speech, made up in the gain. The narrow band loses
# more (300 Hz and the treble the meter weights up); one figure for both left the 8 kHz files ~0.8 LU under
# the target and the G.722 ones ~0.5 LU over it (espeak-ng, mini guide).
BAND_LOSS_DB = {8000: 1.6, 16000: 0.3}
# The narrowband channel passes 300-3400 Hz; cutting outside it keeps G.711 from spending bits on rumble.
# Each filter is cascaded once (24 dB/octave) so the band edges are clean.
BANDS = {8000: "highpass=f=300,highpass=f=300,lowpass=f=3400,lowpass=f=3400",
         16000: "highpass=f=80,highpass=f=80,lowpass=f=7000,lowpass=f=7000"}
PEAK = 0.7  # −3 dBFS: μ-law and A-law distort near full scale


SPAN_TOLERANCE_S = 0.01  # measured within 0.1 ms (resampling rounds a span to whole samples); a cut lacks more


def _wav_data_size(path: Path) -> int | None:
    """The data chunk's size if the WAV header agrees with the file's length (ffmpeg writes both sizes at the
    trailer), else None."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    size = path.stat().st_size
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE" or struct.unpack("<I", head[4:8])[0] != size - 8:
        return None
    pos = 12
    while pos + 8 <= len(head):
        cid, n = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if cid == b"data":
            return n if pos + 8 + n == size else None
        pos += 8 + n + (n & 1)
    return None


def incomplete(files: dict[str, Path], seconds: float) -> str | None:
    """Why a set of one sound's files (extension -> path) is not whole, or None. ffmpeg exits 0 when the disk
    fills at a file's trailer, leaving it cut: every format must hold the span, and they must agree with
    each other to the byte (one stream, split after the last filter)."""
    size = {ext: p.stat().st_size for ext, p in files.items()}
    narrow = size["ulaw"]
    if size["alaw"] != narrow or size["sln"] != 2 * narrow:
        return "its 8 kHz formats differ in length"
    if _wav_data_size(files["wav"]) != size["sln"]:
        return "its WAV file is cut short"
    if abs(size["g722"] - narrow) > 8:  # both 8,000 bytes a second
        return "its G.722 file is cut short"
    if abs(narrow / 8000 - seconds) > SPAN_TOLERANCE_S:
        return f"it lasts {narrow / 8000:.2f} s instead of {seconds:.2f} s"
    return None


def export(src: Path, jobs: list[tuple[Path, float | None, float | None]], gain_db: float) -> None:
    """Cut [start, end) spans of `src` (None = the whole file) into `<base>.<ext>` for every format,
    in one ffmpeg run. The files appear (each atomically) only once all of them are checked whole; else none
    does, and the published ones stay as they were."""
    graph, maps = [f"[0:a]asplit={len(jobs)}" + "".join(f"[in{i}]" for i in range(len(jobs)))], []
    made: list[tuple[Path, dict[str, Path], float | None]] = []
    rates = sorted({r for r, _ in FORMATS.values()})
    with contextlib.ExitStack() as stack:
        for i, (base, start, end) in enumerate(jobs):
            trim = f"atrim=start={start:.3f}:end={end:.3f},asetpts=N/SR/TB," if start is not None else ""
            graph.append(f"[in{i}]{trim}asplit={len(rates)}" + "".join(f"[r{i}_{r}]" for r in rates))
            for r in rates:
                exts = [e for e, (rate, _) in FORMATS.items() if rate == r]
                # Resample first: the band filters and the limiter then run at the phone rate, not 44.1 kHz.
                graph.append(f"[r{i}_{r}]volume={gain_db + BAND_LOSS_DB[r]:.2f}dB,aresample={r},{BANDS[r]},"
                             f"alimiter=limit={PEAK}:level=0,aformat=sample_fmts=s16:channel_layouts=mono,"
                             f"asplit={len(exts)}"
                             + "".join(f"[o{i}_{e}]" for e in exts))
            tmps = {}
            for ext, (rate, args) in FORMATS.items():
                tmp = tmps[ext] = stack.enter_context(atomic_path(base.with_name(f"{base.name}.{ext}")))
                maps += ["-map", f"[o{i}_{ext}]", *args, "-fflags", "+bitexact", "-flags:a", "+bitexact",
                         "-map_metadata", "-1", str(tmp)]
            made.append((base, tmps, None if start is None else end - start))
        _run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(src), "-filter_complex", ";".join(graph),
              *maps], f"making phone audio from {src.name}")
        whole = None
        for base, tmps, seconds in made:
            if seconds is None:
                if whole is None:
                    with wave.open(str(src), "rb") as w:
                        whole = w.getnframes() / w.getframerate()
                seconds = whole
            why = incomplete(tmps, seconds)
            if why:
                if nearly_full(base.parent):
                    raise explain_os_error(OSError(errno.ENOSPC, "No space left on device"), base.parent)
                raise AudioError(f"ffmpeg made an incomplete phone sound {base.name} ({why}).",
                                 cause="ffmpeg stopped writing without reporting an error",
                                 fix="build again; if it happens again, report it with this message")
