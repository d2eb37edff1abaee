"""Benchmark the build of the e-santé guide against the floor, measured in the same run.

    python bench/build.py [--guide guides/e-sante] [--jobs N] [--json bench/results.json]
    python bench/build.py --engine piper --voice NAME-or-PATH.onnx [--guide …] [--jobs N]

Floor: espeak-ng on the guide's whole narration to one WAV, plus one ffmpeg MP3 encode of that WAV with
the build's settings (rate, pitch, voice; 64 kbit/s, 44.1 kHz mono). Then, on a fresh cache and output
folder: a cold build, a no-change rebuild, and a rebuild after editing one page. Memory: the peak RSS of
the largest single process (the build or any one of its ffmpeg/espeak-ng children, from getrusage, as
/usr/bin/time -v reports it), and the peak of the whole process tree's proportional set size (PSS: shared
libraries counted once), sampled every 50 ms with psutil. The target applies to the tree. CPU: user + system
seconds of the whole process tree (getrusage of the reaped children), which a busy shared machine changes far
less than wall times.

With --engine piper, the floor is Piper's own command line (`python -m piper -m VOICE.onnx -i narration.txt`)
on the text the engine hears, and an espeak cold build in the same run gives the time a build spends outside
synthesis (loading, narrating, encoding, publishing: its total less the "Synthesis" time it logs). Targets:
cold Piper build <= 1.15 x (Piper CLI + that time), tree peak <= the CLI's peak + 300 MB, no-change rebuild < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from audioguide.config import BuildSettings  # noqa: E402
from audioguide.guide import load_guide  # noqa: E402
from audioguide.narration.lexicon import Voice  # noqa: E402
from audioguide.narration.script import ScriptWriter  # noqa: E402

TARGETS = {"cold_vs_floor": 1.5, "warm_s": 1.0, "one_page_vs_cold": 0.15, "peak_rss_mb": 300}
PIPER_TARGETS = {"cold_vs_floor": 1.15, "warm_s": 1.0, "peak_over_cli_mb": 300}


def timed(cmd: list[str], **kw) -> tuple[float, dict]:
    """Run cmd; return wall seconds, and CPU seconds and peak memory figures."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
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
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, {"cpu_s": round(usage.ru_utime + usage.ru_stime - cpu0, 1),
                  "tree_peak_mb": round(tree_peak / 2**20, 1),
                  "process_peak_mb": round(max(usage.ru_maxrss, before) / 1024, 1), "stdout": out.decode().strip(),
                  "stderr": err.decode(errors="replace")}


def narration_text(guide_path: Path, engine_text: bool = False) -> str:
    """Every spoken segment of the guide, one per paragraph; with engine_text, as a non-espeak engine hears it
    (the lexicon's respellings applied)."""
    guide = load_guide(guide_path)
    writer = ScriptWriter(guide)
    heard = Voice(guide.lexicon, False) if engine_text else str
    lines = [heard(seg.text) for ch in guide.chapters for page in writer.chapter(ch) for seg in page.segments]
    return "\n\n".join(lines) + "\n"


def piper_floor(guide_path: Path, work: Path, model: Path) -> dict:
    """Piper's own command line on the text our Piper engine hears, to one WAV."""
    text = work / "narration-piper.txt"
    text.write_text(narration_text(guide_path, engine_text=True), "utf-8")
    wav = work / "piper-cli.wav"
    wall, mem = timed([sys.executable, "-m", "piper", "-m", str(model), "-i", str(text), "-f", str(wav)])
    with wave.open(str(wav)) as w:
        audio_s = w.getnframes() / w.getframerate()
    return {"wall_s": round(wall, 2), "cpu_s": mem["cpu_s"], "tree_peak_mb": mem["tree_peak_mb"],
            "audio_s": round(audio_s, 1), "chars": len(text.read_text("utf-8"))}


def synthesis_share(stderr: str) -> tuple[float, float]:
    """(wall, CPU) seconds the build logged for its synthesis stage (run with -vv)."""
    m = re.search(r"Synthesis: ([\d.]+) s, ([\d.]+) CPU-s", stderr)
    if not m:
        sys.exit("the build did not log its synthesis time (run with -vv)")
    return float(m[1]), float(m[2])


def floor(guide_path: Path, work: Path, s: BuildSettings) -> dict:
    text = work / "narration.txt"
    text.write_text(narration_text(guide_path), "utf-8")
    wav, mp3 = work / "floor.wav", work / "floor.mp3"
    t_speak, speak_mem = timed(["espeak-ng", "-v", s.voice or "fr", "-s", str(s.rate), "-p", str(s.pitch), "-b", "1",
                        "-w", str(wav), "-f", str(text)])
    t_enc, enc_mem = timed(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-ar",
                      str(s.sample_rate), "-c:a", "libmp3lame", "-b:a", f"{s.bitrate_kbps}k", str(mp3)])
    cpu = speak_mem["cpu_s"] + enc_mem["cpu_s"]
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
    ap.add_argument("--engine", choices=("espeak", "piper"), default="espeak")
    ap.add_argument("--voice", help="with --engine piper: an installed voice's name, or PATH.onnx")
    ap.add_argument("--json", type=Path, help="where to write the figures (default: bench/results[-piper].json)")
    args = ap.parse_args()
    if args.engine == "piper" and not args.voice:
        ap.error("--engine piper needs --voice NAME or --voice PATH.onnx")
    args.json = args.json or ROOT / "bench" / ("results-piper.json" if args.engine == "piper" else "results.json")
    exe = shutil.which("audioguide", path=str(Path(sys.executable).parent)) or "audioguide"
    (piper_main if args.engine == "piper" else espeak_main)(args, exe)


def _common(args) -> dict:
    return {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        "load_avg_at_end": [round(x, 1) for x in os.getloadavg()]},
            "guide": str(args.guide.relative_to(ROOT) if args.guide.is_relative_to(ROOT) else args.guide),
            "jobs": args.jobs}


def _table(title: str, rows: list[tuple[str, ...]], json_path: Path) -> None:
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(title)
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
    print(f"JSON: {json_path}")


def _save(res: dict, path: Path) -> None:
    for r in res.values():
        if isinstance(r, dict):
            r.pop("stdout", None)
            r.pop("stderr", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2) + "\n")


def espeak_main(args, exe: str) -> None:
    s = BuildSettings()
    with tempfile.TemporaryDirectory(prefix="audioguide-bench-") as tmp:
        work = Path(tmp)
        guide_dir = work / "guide"
        shutil.copytree(args.guide, guide_dir)
        f = floor(guide_dir, work, s)
        cmd = [exe, "-q", "build", str(guide_dir), "--out", str(work / "out"), "--cache", str(work / "cache"),
               "--jobs", str(args.jobs)]
        cold, cold_mem = timed(cmd)
        cold_cpu = cold_mem["cpu_s"]
        warm, warm_mem = timed(cmd)
        what = edit_one_page(guide_dir)
        one, one_mem = timed(cmd)
        manifest = json.loads((work / "out" / "manifest.json").read_text())
        audio_s = sum(c["duration"] for c in manifest["chapters"])

    res = {
        **_common(args),
        "floor": f,
        "cold": {"wall_s": round(cold, 2), "vs_floor": round(cold / f["total_s"], 2),
                 "realtime_factor": round(audio_s / cold, 1),
                 "cpu_vs_floor": round(cold_cpu / f["cpu_s"], 2), **cold_mem},
        "warm": {"wall_s": round(warm, 2), **warm_mem},
        "one_page": {"wall_s": round(one, 2), "vs_cold": round(one / cold, 3), "edit": what, **one_mem},
        "audio_s": round(audio_s, 1),
        "peak_rss_mb": max(cold_mem["tree_peak_mb"], warm_mem["tree_peak_mb"], one_mem["tree_peak_mb"]),
        "targets": TARGETS,
    }
    met = {"cold_vs_floor": res["cold"]["vs_floor"] <= TARGETS["cold_vs_floor"],
           "warm_s": res["warm"]["wall_s"] < TARGETS["warm_s"],
           "one_page_vs_cold": res["one_page"]["vs_cold"] < TARGETS["one_page_vs_cold"],
           "peak_rss_mb": res["peak_rss_mb"] < TARGETS["peak_rss_mb"]}
    res["met"] = met
    _save(res, args.json)

    ok = lambda k: "met" if met[k] else "NOT MET"  # noqa: E731
    _table(f"audioguide benchmark: {res['guide']}, {args.jobs} jobs, {os.cpu_count()} CPUs", [
        ("floor (espeak-ng whole text + 1 encode)", f"{f['total_s']:.1f} s", "",
         f"espeak {f['espeak_s']:.1f} s + ffmpeg {f['encode_s']:.1f} s, {f['audio_s'] / 60:.1f} min audio", ""),
        ("cold build (empty cache)", f"{cold:.1f} s", f"{cold_mem['cpu_s']:.1f} CPU-s",
         f"{res['cold']['vs_floor']:.2f}× floor (CPU: {res['cold']['cpu_vs_floor']:.2f}× the floor's "
         f"{f['cpu_s']:.1f} s), {res['cold']['realtime_factor']}× real time",
         f"≤ {TARGETS['cold_vs_floor']}× floor: {ok('cold_vs_floor')}"),
        ("no-change rebuild", f"{warm:.2f} s", f"{warm_mem['cpu_s']:.1f} CPU-s", "",
         f"< {TARGETS['warm_s']} s: {ok('warm_s')}"),
        ("one page edited", f"{one:.1f} s", f"{one_mem['cpu_s']:.1f} CPU-s",
         f"{res['one_page']['vs_cold'] * 100:.0f} % of cold",
         f"< {TARGETS['one_page_vs_cold'] * 100:.0f} %: {ok('one_page_vs_cold')}"),
        ("peak memory (process tree, PSS)", f"{res['peak_rss_mb']:.0f} MB", "",
         f"largest single process {max(cold_mem['process_peak_mb'], one_mem['process_peak_mb']):.0f} MB",
         f"< {TARGETS['peak_rss_mb']} MB: {ok('peak_rss_mb')}"),
    ], args.json)


def piper_main(args, exe: str) -> None:
    from audioguide.tts.voices import resolve

    model = resolve(args.voice).resolve()
    if not model.exists():
        sys.exit(f"Piper voice not found: {model}")
    with tempfile.TemporaryDirectory(prefix="audioguide-bench-") as tmp:
        work = Path(tmp)
        guide_dir = work / "guide"
        shutil.copytree(args.guide, guide_dir)
        cli = piper_floor(guide_dir, work, model)

        def build(name: str, *extra: str) -> list[str]:
            return [exe, "-vv", "build", str(guide_dir), "--out", str(work / f"out-{name}"),
                    "--cache", str(work / f"cache-{name}"), "--jobs", str(args.jobs), *extra]

        # What a build spends besides synthesis, measured on espeak's (whose synthesis is quick).
        es, es_mem = timed(build("espeak"))
        es_synth, es_synth_cpu = synthesis_share(es_mem["stderr"])
        rest, rest_cpu = es - es_synth, es_mem["cpu_s"] - es_synth_cpu
        cmd = build("piper", "--engine", "piper", "--voice", str(model))
        cold, cold_mem = timed(cmd)
        synth, synth_cpu = synthesis_share(cold_mem["stderr"])
        warm, warm_mem = timed(cmd)
        what = edit_one_page(guide_dir)
        one, one_mem = timed(cmd)
        manifest = json.loads((work / "out-piper" / "manifest.json").read_text())
        audio_s = sum(c["duration"] for c in manifest["chapters"])

    floor_s, floor_cpu = cli["wall_s"] + rest, cli["cpu_s"] + rest_cpu
    peak = max(cold_mem["tree_peak_mb"], warm_mem["tree_peak_mb"], one_mem["tree_peak_mb"])
    res = {
        **_common(args),
        "voice": model.name,
        "piper_cli": cli,
        "espeak_build": {"wall_s": round(es, 2), "cpu_s": es_mem["cpu_s"], "synthesis_s": es_synth,
                         "synthesis_cpu_s": es_synth_cpu, "rest_s": round(rest, 2), "rest_cpu_s": round(rest_cpu, 1)},
        "floor": {"wall_s": round(floor_s, 2), "cpu_s": round(floor_cpu, 1)},
        "cold": {"wall_s": round(cold, 2), "vs_floor": round(cold / floor_s, 2), "synthesis_s": synth,
                 "synthesis_cpu_s": synth_cpu, "cpu_vs_floor": round(cold_mem["cpu_s"] / floor_cpu, 2),
                 "cpu_use": round(cold_mem["cpu_s"] / cold, 2), **cold_mem},
        "warm": {"wall_s": round(warm, 2), **warm_mem},
        "one_page": {"wall_s": round(one, 2), "vs_cold": round(one / cold, 3), "edit": what, **one_mem},
        "audio_s": round(audio_s, 1),
        "peak_mb": peak,
        "targets": PIPER_TARGETS,
    }
    met = {"cold_vs_floor": res["cold"]["vs_floor"] <= PIPER_TARGETS["cold_vs_floor"],
           "warm_s": warm < PIPER_TARGETS["warm_s"],
           "peak_over_cli_mb": peak <= cli["tree_peak_mb"] + PIPER_TARGETS["peak_over_cli_mb"]}
    res["met"] = met
    _save(res, args.json)

    ok = lambda k: "met" if met[k] else "NOT MET"  # noqa: E731
    pct = lambda cpu, wall: f"{cpu:.0f} CPU-s ({cpu / wall * 100:.0f} %)"  # noqa: E731
    _table(f"audioguide Piper benchmark: {res['guide']}, voice {model.name}, {args.jobs} jobs, {os.cpu_count()} "
           f"CPUs, load average {os.getloadavg()[0]:.1f} at the end (wall times depend on it; CPU-s much less)", [
        ("Piper CLI on the same text", f"{cli['wall_s']:.1f} s", pct(cli["cpu_s"], cli["wall_s"]),
         f"{cli['tree_peak_mb']:.0f} MB", f"{cli['audio_s'] / 60:.1f} min audio", ""),
        ("espeak build outside synthesis", f"{rest:.1f} s", f"{rest_cpu:.0f} CPU-s", "",
         f"cold espeak build {es:.1f} s less its synthesis {es_synth:.1f} s", ""),
        ("floor = CLI + that", f"{floor_s:.1f} s", f"{floor_cpu:.0f} CPU-s", "", "", ""),
        ("cold Piper build", f"{cold:.1f} s", pct(cold_mem["cpu_s"], cold), f"{cold_mem['tree_peak_mb']:.0f} MB",
         f"{res['cold']['vs_floor']:.2f}× floor (CPU: {res['cold']['cpu_vs_floor']:.2f}×); synthesis {synth:.1f} s, "
         f"{synth_cpu:.0f} CPU-s", f"≤ {PIPER_TARGETS['cold_vs_floor']}× floor: {ok('cold_vs_floor')}"),
        ("no-change rebuild", f"{warm:.2f} s", f"{warm_mem['cpu_s']:.1f} CPU-s", f"{warm_mem['tree_peak_mb']:.0f} MB",
         "", f"< {PIPER_TARGETS['warm_s']} s: {ok('warm_s')}"),
        ("one page edited", f"{one:.1f} s", f"{one_mem['cpu_s']:.1f} CPU-s", f"{one_mem['tree_peak_mb']:.0f} MB",
         f"{res['one_page']['vs_cold'] * 100:.0f} % of cold", ""),
        ("peak memory (process tree, PSS)", f"{peak:.0f} MB", "", "", f"CLI {cli['tree_peak_mb']:.0f} MB",
         f"≤ CLI + {PIPER_TARGETS['peak_over_cli_mb']} MB: {ok('peak_over_cli_mb')}"),
    ], args.json)


if __name__ == "__main__":
    main()
