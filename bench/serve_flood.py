"""`audioguide serve` under a slow-header flood, at the usual limit of 1,024 open files.

    python bench/serve_flood.py [--connections 1100] [--seconds 30] [--folder DIR]

Starts `audioguide serve` under `prlimit --nofile=1024`, opens N connections from 127.0.0.1 that each send a
request line and then one header line every 3 s (never the blank line that ends the head), and meanwhile asks
for a small file once a second. Prints: how many of those requests were answered, the slowest answer, the
server's open files at their peak and its CPU share over the run (from /proc). Figures, not a test: they
depend on the machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=1100)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--folder", type=Path)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.connections + 256), hard))
    folder = args.folder or Path(tempfile.mkdtemp(prefix="serve-flood-"))
    (folder / "feed.xml").write_text("<rss/>")
    log = open(folder / ".serve.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(["prlimit", "--nofile=1024", sys.executable, "-m", "audioguide", "serve", str(folder),
                             "--port", "0"], stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(400):
            if m := re.search(r"http://127\.0\.0\.1:(\d+)/", (folder / ".serve.log").read_text()):
                port = int(m.group(1))
                break
            time.sleep(0.05)
        assert port, (folder / ".serve.log").read_text()
        pid = proc.pid
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        slow: list[socket.socket] = []
        answered = asked = 0
        worst = 0.0
        peak_fds = 0
        next_line = next_probe = time.monotonic()
        n = 0
        while time.monotonic() - t0 < args.seconds:
            while len(slow) < args.connections:  # (re)open the flood: the server may drop some
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=1)
                    s.sendall(b"GET /feed.xml HTTP/1.1\r\n")
                    slow.append(s)
                except OSError:
                    break
            now = time.monotonic()
            if now >= next_line:
                n += 1
                alive = []
                for s in slow:
                    try:
                        s.sendall(f"X-Slow-{n}: a\r\n".encode())
                        alive.append(s)
                    except OSError:
                        s.close()
                slow = alive
                next_line = now + 3
            if now >= next_probe:
                asked += 1
                start = time.monotonic()
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("GET", "/feed.xml")
                    if conn.getresponse().status == 200:
                        answered += 1
                    conn.close()
                except OSError:
                    pass
                worst = max(worst, time.monotonic() - start)
                next_probe = now + 1
            peak_fds = max(peak_fds, len(os.listdir(f"/proc/{pid}/fd")))
            time.sleep(0.05)
        cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        print(f"{args.connections} slow-header connections for {args.seconds:.0f} s, server limited to 1,024 files:")
        print(f"  normal requests answered: {answered} of {asked}; slowest {worst:.2f} s")
        print(f"  server open files at peak: {peak_fds}; server CPU: {cpu:.0%} of one core")
    finally:
        for s in slow:
            s.close()
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
