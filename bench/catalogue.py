"""Benchmark a catalogue build: serial local builds, the embedded default, and a 2-worker Dask cluster.

    python bench/catalogue.py [--engine espeak|piper] [--voice V] [--jobs N] [--workers 2] [--no-esante]

The catalogue is the tests' own: e-santé, the mini and two-level guides, and a small guide written here. Each
run starts from an empty clip cache and output folder:
- serial: `audioguide build` of each guide, one after the other (sum of wall and CPU seconds);
- embedded: `audioguide catalogue build` without a scheduler (today's local pool);
- cluster: `dask scheduler` and N `dask worker` processes (1 thread each) on this machine, and
  `audioguide catalogue build --scheduler`; its CPU adds the scheduler's and workers' process trees to the client's.
Scaling efficiency = serial CPU / (wall x cores); overhead = cluster wall / embedded wall (target <= 1.1).
CPU is user + system seconds of every process tree involved. The load average is printed with the figures:
the machine is shared, and wall times follow its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))
MADE = (ROOT / "tests" / "test_catalogue.py").read_text("utf-8").split('MADE = """\\\n', 1)[1].split('"""', 1)[0]


def run(cmd: list, env=None) -> tuple[float, float, str]:
    """Wall and CPU seconds (the command's whole process tree, reaped) of one command."""
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{done.stderr[-3000:]}")
    return wall, (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime), done.stderr


def tree_cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        for q in [p] + p.children(recursive=True):
            try:
                t = q.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
    return total


def make_catalogue(root: Path, esante: bool) -> Path:
    cat = root / "catalogue"
    cat.mkdir()
    for name in ("mini", "two-level"):
        shutil.copytree(ROOT / "tests" / "data" / name, cat / name)
    (cat / "fait-main").mkdir()
    (cat / "fait-main" / "guide.yaml").write_text(MADE, "utf-8")
    if esante:
        shutil.copytree(ROOT / "guides" / "e-sante", cat / "e-sante")
    return cat


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", default="espeak")
    ap.add_argument("--voice")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-esante", action="store_true", help="leave e-santé out (a quick run)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    tmp = Path(tempfile.mkdtemp(prefix="bench-catalogue-"))
    cat = make_catalogue(tmp, not args.no_esante)
    shared = [f"engine: {args.engine}"] + ([f"voice: {json.dumps(args.voice)}"] if args.voice else [])
    guides = sorted(p.name for p in cat.iterdir() if p.is_dir())
    (cat / "catalogue.yaml").write_text("\n".join(shared + [f"guides: {json.dumps(guides)}"]) + "\n", "utf-8")
    engine_opts = ["--engine", args.engine] + (["--voice", args.voice] if args.voice else [])
    load0 = os.getloadavg()
    figures = {}
    try:
        wall = cpu = 0.0
        for g in guides:
            w, c, _ = run([BIN / "audioguide", "-q", "build", cat / g, "--out", tmp / "serial" / g, "--cache",
                           tmp / "serial-cache", "-j", args.jobs, *engine_opts])
            wall, cpu = wall + w, cpu + c
        figures["serial"] = {"wall_s": wall, "cpu_s": cpu}
        w, c, _ = run([BIN / "audioguide", "-q", "catalogue", "build", cat, "--out", tmp / "embedded", "--cache",
                       tmp / "embedded-cache", "-j", args.jobs])
        figures["embedded"] = {"wall_s": w, "cpu_s": c}
        index = json.loads((tmp / "embedded" / "catalogue.json").read_text("utf-8"))
        audio_h = sum(g["duration"] for g in index["guides"]) / 3600

        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        env = {**os.environ, "AUDIOGUIDE_WORKER_CACHE": str(tmp / "worker-cache")}
        procs = [psutil.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", "127.0.0.1:0"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
        procs += [psutil.Popen([BIN / "dask", "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                  for _ in range(args.workers)]
        try:
            from distributed import Client

            t0 = time.perf_counter()
            with Client(address, timeout="120s") as c:
                c.wait_for_workers(args.workers, timeout=300)
            start_s = time.perf_counter() - t0
            before = tree_cpu(procs)
            w, c, _ = run([BIN / "audioguide", "-q", "catalogue", "build", cat, "--out", tmp / "cluster",
                           "--cache", tmp / "cluster-cache", "-j", args.jobs, "--scheduler", address])
            figures["cluster"] = {"wall_s": w, "cpu_s": c + tree_cpu(procs) - before,
                                  "cluster_start_s": start_s}
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load1 = os.getloadavg()
    serial_cpu = figures["serial"]["cpu_s"]
    print(f"Catalogue of {len(guides)} guides ({', '.join(guides)}), engine {args.engine}, {cores} cores, "
          f"--jobs {args.jobs}, {args.workers} Dask workers.")
    print(f"Load average: {load0[0]:.1f} / {load0[1]:.1f} / {load0[2]:.1f} before, "
          f"{load1[0]:.1f} / {load1[1]:.1f} / {load1[2]:.1f} after.")
    print(f"{'':12} {'wall s':>8} {'CPU s':>8} {'efficiency':>11} {'vs embedded':>12}")
    for name, f in figures.items():
        f["efficiency"] = serial_cpu / (f["wall_s"] * cores)
        f["vs_embedded"] = f["wall_s"] / figures["embedded"]["wall_s"]
        print(f"{name:12} {f['wall_s']:8.1f} {f['cpu_s']:8.1f} {f['efficiency']:11.2f} {f['vs_embedded']:11.2f}x")
    print(f"Audio: {audio_h * 60:.1f} min; CPU per audio hour: serial {serial_cpu / audio_h:.0f} s, embedded "
          f"{figures['embedded']['cpu_s'] / audio_h:.0f} s, cluster {figures['cluster']['cpu_s'] / audio_h:.0f} s.")
    if "cluster_start_s" in figures.get("cluster", {}):
        print(f"Cluster start (scheduler + workers ready, not in the figures above): "
              f"{figures['cluster']['cluster_start_s']:.1f} s. Target: cluster wall <= 1.1x embedded.")
    if args.json:
        figures_json = {"load": [load0, load1], "audio_h": audio_h, "figures": figures}
        args.json.write_text(json.dumps(figures_json, indent=1) + "\n")


if __name__ == "__main__":
    main()
