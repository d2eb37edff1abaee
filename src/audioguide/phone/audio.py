"""Telephony audio: band-limited, levelled, in every format Asterisk and VoiceXML servers play."""

from __future__ import annotations

import contextlib
import errno
import struct
import subprocess
import tempfile
import wave
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from audioguide.audio import Tap, _run, ffmpeg_exe
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
# Each filter is cascaded once (24 dB/octave) so the band edges are clean. At 16 kHz the top edge is the
# resampler's own low-pass, set there: free, where two biquads were a third of that chain's CPU. Not at 8 kHz:
# that sharper edge keeps full level up to 3.4 kHz, so close to the rate's half that the peaks between samples
# rose from −1.8 to −1.2 dBTP (e-santé).
BANDS = {8000: "aresample=8000,highpass=f=300,highpass=f=300,lowpass=f=3400,lowpass=f=3400",
         16000: "aresample=16000:cutoff=0.875,highpass=f=80,highpass=f=80"}
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


@lru_cache(maxsize=4)
def _g711(exe: str) -> dict[str, np.ndarray]:
    """ffmpeg's own μ-law and A-law encoders as tables: every 16-bit sample through each, once a process."""
    ramp = np.arange(-32768, 32768, dtype="<i2").tobytes()
    tables = {}
    for ext in ("ulaw", "alaw"):
        proc = subprocess.run([exe, "-nostdin", "-v", "error", "-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "-",
                               *FORMATS[ext][1], "-"], input=ramp, capture_output=True)
        if proc.returncode or len(proc.stdout) != 65536:
            raise AudioError(f"ffmpeg cannot encode {ext}: {proc.stderr.decode('utf-8', 'replace')[-300:]}",
                             cause="an ffmpeg build without its G.711 encoders",
                             fix="reinstall ffmpeg with apt-get install ffmpeg")
        tables[ext] = np.frombuffer(proc.stdout, np.uint8)
    return tables


def _wav_header(frames: int) -> bytes:
    """The 44-byte header ffmpeg's WAV muxer writes (bitexact, no metadata) for 8 kHz mono 16-bit PCM."""
    return (b"RIFF" + struct.pack("<I", 36 + 2 * frames) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", 2 * frames))


def export(src: Path, jobs: list[tuple[Path, float | None, float | None]], gain_db: float) -> None:
    """Cut [start, end) spans of `src` (None = the whole file) into `<base>.<ext>` for every format. The files
    appear (each atomically) only once all of them are checked whole; else none does, and the published ones
    stay as they were.

    One ffmpeg run levels, band-limits and peak-limits the whole file once for each rate, and encodes it to
    G.722; the spans are cut from that here, and μ-law and A-law come from ffmpeg's own tables. A cut falls
    in a pause (between sentences, or before a page's chime), so a span cut from the whole sounds as one made
    on its own, and a G.722 decoder starting there finds the encoder's state run down by the silence. One
    chain per rate instead of one per span took the phone formats from 10.3 to ~5 CPU-s (e-santé)."""
    export_many([(src, jobs, gain_db)])


def export_many(sources: list[tuple[Path, list[tuple[Path, float | None, float | None]], float]]) -> None:
    """export() for several sources (src, jobs, gain) in one ffmpeg run, each through its own chains: the same
    bytes, without an ffmpeg start (~35 ms of CPU) for each of the menu's short prompts."""
    if not sources:
        return
    exe = ffmpeg_exe()
    raws: list[tuple[Path, Path]] = []
    with tempfile.TemporaryDirectory(dir=Path(sources[0][0]).parent) as tmp:
        cmd = [exe, "-nostdin", "-v", "error", "-y"]
        for src, _, _ in sources:
            cmd += ["-i", str(src)]
        graph, outs = [], []
        for i, (_, _, gain_db) in enumerate(sources):
            graph.append(f"[{i}:a]asplit=2[{i}_8000][{i}_16000]")
            chains, o, raw = _chains(str(i), gain_db, Path(tmp))
            graph += [f"[{i}_{r}]{filters}[{label}]" for r, (filters, label) in zip((8000, 16000), chains)]
            outs += o
            raws.append(raw)
        what = ", ".join(Path(src).name for src, _, _ in sources)
        _run([*cmd, "-filter_complex", ";".join(graph), *outs], f"making phone audio from {what}")
        cut = [(np.fromfile(n, "<i2"), w.read_bytes()) for n, w in raws]
    tables = _g711(exe)
    with contextlib.ExitStack() as stack:
        for (src, jobs, _), (narrow, wide) in zip(sources, cut):
            _write(stack, src, jobs, narrow, wide, tables)


def _chains(name: str, gain_db: float, tmp: Path) -> tuple[list[tuple[str, str]], list[str], tuple[Path, Path]]:
    """One source's chains to the two rates ((filters, output label) each), the ffmpeg outputs that map them
    to raw files in `tmp`, and those files (8 kHz 16-bit, G.722)."""
    chains = [(f"volume={gain_db + BAND_LOSS_DB[r]:.2f}dB,{BANDS[r]},"
               f"alimiter=limit={PEAK}:level=0,aformat=sample_fmts=s16:channel_layouts=mono", f"o{name}_{r}")
              for r in (8000, 16000)]
    narrow_raw, wide_raw = tmp / f"narrow{name}.s16", tmp / f"wide{name}.g722"
    outs = ["-map", f"[o{name}_8000]", *FORMATS["sln"][1], str(narrow_raw),
            "-map", f"[o{name}_16000]", *FORMATS["g722"][1], "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", str(wide_raw)]
    return chains, outs, (narrow_raw, wide_raw)


def tap(src: Path, jobs: list[tuple[Path, float | None, float | None]], gain_db: float,
        done: Callable[[], None]) -> Tap:
    """export() of a chapter made in its limiter pass (audio.limited_loudness): the same chains, the same
    bytes, one ffmpeg start fewer. Its raw files go beside `src` (the chapter's own temporary folder)."""
    chains, outs, (narrow_raw, wide_raw) = _chains("phone", gain_db, Path(src).parent)

    def finish() -> None:
        narrow, wide = np.fromfile(narrow_raw, "<i2"), wide_raw.read_bytes()
        narrow_raw.unlink()
        wide_raw.unlink()
        with contextlib.ExitStack() as stack:
            _write(stack, src, jobs, narrow, wide, _g711(ffmpeg_exe()))
        done()

    return Tap(chains, outs, finish)


def _write(stack: contextlib.ExitStack, src: Path, jobs: list[tuple[Path, float | None, float | None]],
           narrow: np.ndarray, wide: bytes, tables: dict[str, np.ndarray]) -> None:
    """One source's spans from its two rates' audio, each file atomic, checked whole (see export())."""
    made = []
    for base, start, end in jobs:
        a = 0 if start is None else min(len(narrow), round(start * 8000))
        b = len(narrow) if end is None else min(len(narrow), round(end * 8000))
        pcm = narrow[a:b]
        data = {"sln": pcm.tobytes(), "wav": _wav_header(len(pcm)) + pcm.tobytes(),
                "ulaw": tables["ulaw"][pcm.astype(np.int32) + 32768].tobytes(),
                "alaw": tables["alaw"][pcm.astype(np.int32) + 32768].tobytes(),
                "g722": wide[a:b]}  # G.722: one byte per two 16 kHz samples, as many bytes as 8 kHz samples
        tmps = {}
        for ext in FORMATS:
            tmp = tmps[ext] = stack.enter_context(atomic_path(base.with_name(f"{base.name}.{ext}")))
            try:
                tmp.write_bytes(data[ext])
            except OSError as exc:
                raise explain_os_error(exc, base.parent) from None
        made.append((base, tmps, None if start is None or end is None else end - start))
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
