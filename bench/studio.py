"""Time to the first sound of a page in the studio, on e-santé: the "Écouter cette page" button's request
(POST /ecouter, as htmx sends it) until the first bytes of the page's audio arrive, over real HTTP.

    python bench/studio.py [GUIDE] [--pages N]

Measured for the first N pages (in guide order) with an empty clip cache (a page never heard nor built),
then again with the cache the first pass filled (a page heard before, or after a build). Target: under 3 s.
Also the time the pronunciation page takes to open (it runs `check --speech`'s audit on the whole guide).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx  # noqa: E402

from audioguide.guide import load_guide  # noqa: E402
from audioguide.studio.app import StudioServer  # noqa: E402


def first_sound(client: httpx.Client, csrf: str, ref: str) -> float:
    t0 = time.perf_counter()
    r = client.post("/ecouter", data={"csrf": csrf, "ref": ref, "allure": "normal"})
    src = re.search(r'<audio[^>]* src="([^"]+)"', r.text).group(1)
    with client.stream("GET", src) as audio:
        next(audio.iter_bytes(4096))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("guide", nargs="?", default=str(Path(__file__).resolve().parents[1] / "guides" / "e-sante"))
    ap.add_argument("--pages", type=int, default=0, help="How many pages, in guide order [all]")
    args = ap.parse_args()
    guide = load_guide(args.guide)
    refs = [f"{c.id}/{p.id}" for c in guide.chapters for p in c.pages][: args.pages or None]
    with tempfile.TemporaryDirectory(prefix="bench-studio-") as tmp:
        server = StudioServer(Path(args.guide), port=0, cache_dir=Path(tmp) / "cache")
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            with httpx.Client(base_url=server.base, timeout=300) as client:
                home = client.get("/").text
                csrf = re.search(r'name="csrf-token" content="([^"]+)"', home).group(1)
                t0 = time.perf_counter()
                client.get("/prononciation").raise_for_status()
                print(f"pronunciation page (check --speech's audit): {time.perf_counter() - t0:.1f} s")
                for label in ("empty cache", "warm cache"):
                    times = [first_sound(client, csrf, ref) for ref in refs]
                    print(f"{label:12}: first sound of a page in {statistics.median(times):.2f} s median, "
                          f"{max(times):.2f} s worst, over {len(times)} pages of {guide.id} "
                          f"({sum(t < 3 for t in times)}/{len(times)} under 3 s)")
        finally:
            server.stop()
            thread.join()


if __name__ == "__main__":
    main()
