"""Benchmark the build of the e-santé guide against the floor, measured in the same run.

    python bench/build.py [--guide guides/e-sante] [--jobs N] [--json bench/results.json]

Floor: espeak-ng on the guide's whole narration to one WAV, plus one ffmpeg MP3 encode of that WAV with
the build's settings (rate, pitch, voice; 64 kbit/s, 44.1 kHz mono). Then, on a fresh cache and output
folder: a cold build, a no-change rebuild, and a rebuild after editing one page. Memory: the peak RSS of
the largest single process (the build or any one of its ffmpeg/espeak-ng children, from getrusage, as
/usr/bin/time -v reports it), and the peak of the whole process tree's proportional set size (PSS: shared
libraries counted once), sampled every 50 ms with psutil. The target applies to the tree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from audioguide.config import BuildSettings  # noqa: E402
from audioguide.guide import load_guide  # noqa: E402
from audioguide.narration.script import ScriptWriter  # noqa: E402

TARGETS = {"cold_vs_floor": 1.5, "warm_s": 1.0, "one_page_vs_cold": 0.15, "peak_rss_mb": 300}


def timed(cmd: list[str], **kw) -> tuple[float, dict]:
    """Run cmd; return wall seconds and peak memory figures."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    # Let Python keep its bytecode cache, as on any normal install (some sandboxes switch it off, which
    # would add the compilation of every module to each run).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **kw)
    tree_peak = 0
    while proc.poll() is None:
        try:
            procs = [proc] + proc.children(recursive=True)
            # PSS: shared libraries (ffmpeg's, Python's) are counted once across the tree, not per process.
            tree_peak = max(tree_peak, sum(p.memory_full_info().pss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    out, err = proc.communicate()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, {"tree_peak_mb": round(tree_peak / 2**20, 1),
                  "process_peak_mb": round(max(single, before) / 1024, 1), "stdout": out.decode().strip()}


def children_cpu() -> float:
    """User + system CPU seconds of every child process tree finished so far (espeak-ng and ffmpeg included, as
    their parents wait for them). Wall time on a shared machine follows the load; CPU time mostly does not."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def narration_text(guide_path: Path) -> str:
    guide = load_guide(guide_path)
    writer = ScriptWriter(guide)
    lines = [seg.text for ch in guide.chapters for page in writer.chapter(ch) for seg in page.segments]
    return "\n\n".join(lines) + "\n"


def floor(guide_path: Path, work: Path, s: BuildSettings) -> dict:
    text = work / "narration.txt"
    text.write_text(narration_text(guide_path), "utf-8")
    wav, mp3 = work / "floor.wav", work / "floor.mp3"
    cpu0 = children_cpu()
    t_speak, _ = timed(["espeak-ng", "-v", s.voice or "fr", "-s", str(s.rate), "-p", str(s.pitch), "-b", "1",
                        "-w", str(wav), "-f", str(text)])
    t_enc, _ = timed(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-ar",
                      str(s.sample_rate), "-c:a", "libmp3lame", "-b:a", f"{s.bitrate_kbps}k", str(mp3)])
    cpu = children_cpu() - cpu0
    dur = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                str(mp3)], capture_output=True, text=True).stdout)
    return {"espeak_s": round(t_speak, 2), "encode_s": round(t_enc, 2), "total_s": round(t_speak + t_enc, 2),
            "cpu_s": round(cpu, 2),
            "audio_s": round(dur, 1), "chars": len(text.read_text("utf-8"))}


def edit_one_page(guide_dir: Path) -> str:
    """Change one sentence of one page, the way an editor fixes a typo: the first plain `- p:` line."""
    src = guide_dir / "guide.yaml"
    lines = src.read_text("utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        body = line.strip()
        if body.startswith("- p: ") and body.endswith(".") and not body.startswith(('- p: "', "- p: '", "- p: >")):
            lines[i] = line.rstrip("\n")[:-1] + ", vraiment.\n"
            src.write_text("".join(lines), "utf-8")
            return f"line {i + 1}"
    raise SystemExit("no plain one-line paragraph to edit in the guide")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--guide", type=Path, default=ROOT / "guides" / "e-sante")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    args = ap.parse_args()
    exe = shutil.which("audioguide", path=str(Path(sys.executable).parent)) or "audioguide"
    s = BuildSettings()

    with tempfile.TemporaryDirectory(prefix="audioguide-bench-") as tmp:
        work = Path(tmp)
        guide_dir = work / "guide"
        shutil.copytree(args.guide, guide_dir)
        f = floor(guide_dir, work, s)
        cmd = [exe, "-q", "build", str(guide_dir), "--out", str(work / "out"), "--cache", str(work / "cache"),
               "--jobs", str(args.jobs)]
        cpu0 = children_cpu()
        cold, cold_mem = timed(cmd)
        cold_cpu = children_cpu() - cpu0
        warm, warm_mem = timed(cmd)
        what = edit_one_page(guide_dir)
        one, one_mem = timed(cmd)
        manifest = json.loads((work / "out" / "manifest.json").read_text())
        audio_s = sum(c["duration"] for c in manifest["chapters"])

    res = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "guide": str(args.guide.relative_to(ROOT) if args.guide.is_relative_to(ROOT) else args.guide),
        "jobs": args.jobs,
        "floor": f,
        "cold": {"wall_s": round(cold, 2), "vs_floor": round(cold / f["total_s"], 2),
                 "realtime_factor": round(audio_s / cold, 1), "cpu_s": round(cold_cpu, 2),
                 "cpu_vs_floor": round(cold_cpu / f["cpu_s"], 2), **cold_mem},
        "warm": {"wall_s": round(warm, 2), **warm_mem},
        "one_page": {"wall_s": round(one, 2), "vs_cold": round(one / cold, 3), "edit": what, **one_mem},
        "audio_s": round(audio_s, 1),
        "peak_rss_mb": max(cold_mem["tree_peak_mb"], warm_mem["tree_peak_mb"], one_mem["tree_peak_mb"]),
        "targets": TARGETS,
    }
    for r in (res["cold"], res["warm"], res["one_page"]):
        r.pop("stdout", None)
    met = {"cold_vs_floor": res["cold"]["vs_floor"] <= TARGETS["cold_vs_floor"],
           "warm_s": res["warm"]["wall_s"] < TARGETS["warm_s"],
           "one_page_vs_cold": res["one_page"]["vs_cold"] < TARGETS["one_page_vs_cold"],
           "peak_rss_mb": res["peak_rss_mb"] < TARGETS["peak_rss_mb"]}
    res["met"] = met
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")

    ok = lambda k: "met" if met[k] else "NOT MET"  # noqa: E731
    rows = [
        ("floor (espeak-ng whole text + 1 encode)", f"{f['total_s']:.1f} s",
         f"espeak {f['espeak_s']:.1f} s + ffmpeg {f['encode_s']:.1f} s, {f['audio_s'] / 60:.1f} min audio", ""),
        ("cold build (empty cache)", f"{cold:.1f} s",
         f"{res['cold']['vs_floor']:.2f}× floor, {res['cold']['realtime_factor']}× real time",
         f"≤ {TARGETS['cold_vs_floor']}× floor: {ok('cold_vs_floor')}"),
        ("CPU time (user + system, all processes)", f"{cold_cpu:.1f} s",
         f"{res['cold']['cpu_vs_floor']:.2f}× the floor's {f['cpu_s']:.1f} s", ""),
        ("no-change rebuild", f"{warm:.2f} s", "", f"< {TARGETS['warm_s']} s: {ok('warm_s')}"),
        ("one page edited", f"{one:.1f} s", f"{res['one_page']['vs_cold'] * 100:.0f} % of cold",
         f"< {TARGETS['one_page_vs_cold'] * 100:.0f} %: {ok('one_page_vs_cold')}"),
        ("peak memory (process tree, PSS)", f"{res['peak_rss_mb']:.0f} MB",
         f"largest single process {max(cold_mem['process_peak_mb'], one_mem['process_peak_mb']):.0f} MB",
         f"< {TARGETS['peak_rss_mb']} MB: {ok('peak_rss_mb')}"),
    ]
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"audioguide benchmark: {res['guide']}, {args.jobs} jobs, {os.cpu_count()} CPUs")
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
