"""Telephony audio: band-limited, levelled, in every format Asterisk and VoiceXML servers play."""

from __future__ import annotations

import contextlib
from pathlib import Path

from audioguide.audio import _run, ffmpeg_exe
from audioguide.files import atomic_path

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


def export(src: Path, jobs: list[tuple[Path, float | None, float | None]], gain_db: float) -> None:
    """Cut [start, end) spans of `src` (None = the whole file) into `<base>.<ext>` for every format,
    in one ffmpeg run. Every file appears atomically, or not at all."""
    graph, maps = [f"[0:a]asplit={len(jobs)}" + "".join(f"[in{i}]" for i in range(len(jobs)))], []
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
            for ext, (rate, args) in FORMATS.items():
                tmp = stack.enter_context(atomic_path(base.with_name(f"{base.name}.{ext}")))
                maps += ["-map", f"[o{i}_{ext}]", *args, "-fflags", "+bitexact", "-flags:a", "+bitexact",
                         "-map_metadata", "-1", str(tmp)]
        _run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(src), "-filter_complex", ";".join(graph),
              *maps], f"making phone audio from {src.name}")
