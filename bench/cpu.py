"""Where the CPU of a cold espeak-ng build goes, against its floor (printed figures, not a timed test).

    python bench/cpu.py [--guide guides/e-sante] [--jobs N] [--levels] [--json FILE]

The build runs in this process, from an empty clip cache and output folder. Every child process is reaped with
os.wait4, which gives that child's own user + system seconds, so each one is put down to its kind by its argv,
whatever ran beside it on the other threads: espeak-ng, and ffmpeg by role (MP3 encode, loudness meter, MP3
true-peak check, phone formats, other). The Python process is this process's own CPU time over the build.
The floor: espeak-ng over the same texts (the whole narration, one run), plus one LAME encode of that audio
with the build's settings, as bench/build.py measures it. With --levels, ffmpeg's EBU R128 meter (the real one)
measures every published MP3 and phone sound afterwards (not counted in the figures).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from audioguide.config import BuildSettings  # noqa: E402

CPU: dict[str, float] = defaultdict(float)
RUNS: dict[str, int] = defaultdict(int)


def kind(args) -> str:
    argv = [str(a) for a in (args if isinstance(args, (list, tuple)) else [args])]
    exe, line = Path(argv[0]).name, " ".join(argv)
    if exe.startswith("espeak"):
        return "espeak-ng"
    if "espeak_words.py" in line:  # its library, in a server that forks a child per clip (counted with it)
        return "espeak-ng library"
    if exe == "ffprobe":
        return "ffprobe"
    if exe != "ffmpeg":
        return exe
    if "g722" in line:
        return "ffmpeg phone formats"
    if "libmp3lame" in line and "anullsrc" not in line:
        return "ffmpeg MP3 encode"
    if "ebur128" in line:
        return "ffmpeg loudness meter"
    if "astats" in line or "-f f32le" in line and ".mp3" in line:
        return "ffmpeg MP3 true peak"
    if "alimiter" in line:
        return "ffmpeg limiter (loudness)"
    return "ffmpeg other"


def _try_wait(self, wait_flags):
    """subprocess.Popen._try_wait with os.wait4: the reaped child's own rusage, put down to its kind."""
    try:
        pid, sts, usage = os.wait4(self.pid, wait_flags)
    except ChildProcessError:
        pid, sts = self.pid, 0
    else:
        if pid:
            k = kind(self.args)
            CPU[k] += usage.ru_utime + usage.ru_stime
            RUNS[k] += 1
    return pid, sts


subprocess.Popen._try_wait = _try_wait


def floor(guide: Path, work: Path, s: BuildSettings) -> dict[str, float]:
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "bench" / "build.py")
    bb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bb)
    text = work / "narration.txt"
    text.write_text(bb.narration_text(guide), "utf-8")
    wav, mp3 = work / "floor.wav", work / "floor.mp3"
    out = {}
    for name, cmd in (("espeak-ng", ["espeak-ng", "-v", s.voice or "fr", "-s", str(s.rate), "-p", str(s.pitch),
                                     "-b", "1", "-w", str(wav), "-f", str(text)]),
                      ("LAME encode", ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-ar",
                                       str(s.sample_rate), "-c:a", "libmp3lame", "-b:a", f"{s.bitrate_kbps}k",
                                       str(mp3)])):
        before = sum(CPU.values())
        subprocess.run(cmd, check=True, capture_output=True)
        out[name] = sum(CPU.values()) - before
    CPU.clear()
    RUNS.clear()
    return out


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) by ffmpeg's ebur128, to 3 decimals (its summary prints one)."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-af",
                          "ebur128=peak=true:metadata=1,ametadata=mode=print:file=-", "-f", "null", "-"],
                         capture_output=True, text=True, errors="replace").stdout
    last = {k: v for k, _, v in (line.partition("=") for line in out.splitlines()) if v}
    tp = float(last.get("lavfi.r128.true_peak", 0))
    return float(last["lavfi.r128.I"]), (20 * math.log10(tp) if tp > 0 else -120.0)


def ours(path: Path) -> tuple[float, float]:
    """The build's in-process meter on the same file: loudness and true peak."""
    from audioguide import audio

    rate = int(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=sample_rate", "-of", "csv=p=0",
                               str(path)], capture_output=True, text=True).stdout)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-f", "f32le", "-"]
    m = audio.meter(audio._pcm(cmd, path.name), rate)
    return m.loudness(), audio.true_peak(path)


def levels(out: Path) -> dict:
    mp3s = sorted(out.glob("audio/*.mp3")) + sorted(out.glob("*-complet.*.mp3"))
    res = {"mp3": {p.name: ebur128(p) for p in mp3s}}
    ours_mp3 = {p.name: ours(p) for p in mp3s}
    d = [(ours_mp3[n][0] - v[0], ours_mp3[n][1] - v[1]) for n, v in res["mp3"].items()]
    print(f"In-process meter against ebur128 on the {len(d)} MP3s: |ΔLUFS| <= {max(abs(a) for a, _ in d):.3f}, "
          f"|ΔTP| <= {max(abs(b) for _, b in d):.3f} dB", flush=True)
    for ext in ("wav", "g722"):
        res[ext] = {p.name: ebur128(p) for p in sorted(out.glob(f"phone/sounds/*.{ext}"))
                    if p.stat().st_size > 8000 * (2 if ext == "wav" else 1) * 3}  # ≥ 3 s: shorter is not gated well
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--guide", type=Path, default=ROOT / "guides" / "e-sante")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--levels", action="store_true", help="measure every published MP3 and phone sound")
    ap.add_argument("--keep", type=Path, help="build into this folder (kept) instead of a temporary one")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--levels-of", type=Path, help="only measure the levels of this earlier build's output")
    args = ap.parse_args()
    if args.levels_of:
        return report_levels(levels(args.levels_of))
    from audioguide.cli import cli

    s = BuildSettings()
    with tempfile.TemporaryDirectory(prefix="audioguide-cpu-") as tmp:
        work = Path(tmp)
        fl = floor(args.guide, work, s)
        out = args.keep or work / "out"
        if out.exists():
            shutil.rmtree(out)
        load0 = os.getloadavg()
        t0, p0 = time.perf_counter(), time.process_time()
        cli.main(["-q", "build", str(args.guide), "--out", str(out), "--cache", str(work / "cache"),
                  "--jobs", str(args.jobs)], standalone_mode=False)
        from audioguide.tts.espeak import _SERVERS

        _SERVERS.close()  # the library processes the phone prompts left idle: reaped now, so counted
        wall, python = time.perf_counter() - t0, time.process_time() - p0
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        audio_h = sum(c["duration"] for c in manifest["chapters"]) / 3600
        build_cpu, runs = dict(CPU), dict(RUNS)
        report(args, build_cpu, python, fl, audio_h, wall, load0)
        lv = levels(out) if args.levels else None
    report_levels(lv)
    if args.json:
        args.json.write_text(json.dumps({"build": build_cpu, "runs": runs, "python": python, "floor": fl,
                                         "audio_h": audio_h, "wall_s": wall, "levels": lv}, indent=1) + "\n")


def report(args, cpu, python, fl, audio_h, wall, load0) -> None:
    total = sum(cpu.values()) + python
    fl_total = sum(fl.values())
    print(f"Cold build of {args.guide.name}, --jobs {args.jobs}: {audio_h * 60:.1f} min of audio, {wall:.1f} s wall "
          f"(load {load0[0]:.1f} before, {os.getloadavg()[0]:.1f} after).")
    rows = sorted(cpu.items(), key=lambda kv: -kv[1]) + [("Python process (all its threads)", python)]
    for k, v in rows:
        print(f"  {k:34} {v:6.1f} CPU-s  {RUNS.get(k, 1) if k in RUNS else '':>5}{' runs' if k in RUNS else ''}")
    print(f"  {'total':34} {total:6.1f} CPU-s")
    print(f"Floor: espeak-ng {fl['espeak-ng']:.1f} + LAME {fl['LAME encode']:.1f} = {fl_total:.1f} CPU-s. "
          f"Build / floor: {total / fl_total:.2f}x (target <= 1.8x). CPU per audio hour: {total / audio_h:.0f} s.",
          flush=True)


def report_levels(lv) -> None:
    if lv:
        for what, figs in lv.items():
            if not figs:
                continue
            i = [v[0] for v in figs.values()]
            tp = [v[1] for v in figs.values()]
            print(f"ebur128, {len(figs)} {what}: integrated {min(i):.2f} to {max(i):.2f} LUFS, true peak "
                  f"{min(tp):.2f} to {max(tp):.2f} dBTP", flush=True)


if __name__ == "__main__":
    main()
