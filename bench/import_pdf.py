"""Memory and time of `audioguide import` on an ordinary 200-page PDF (the target: under 500 MB).

    python bench/import_pdf.py [--pages 200]

Writes a text PDF like a long patient booklet (fpdf2, DejaVu: a heading and about 2,800 characters of
body text per page, running header and page number), imports it with the CLI in a child process, and
prints the peak resident memory of the CLI and of its PDF reader process (each from getrusage), their sum
(an upper bound: the CLI holds only the lines while the reader works), and the time taken.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MB = 500
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
WORDS = ("la vaccination protège les personnes fragiles et leur entourage ; parlez-en à votre médecin, "
         "à votre pharmacien ou à votre infirmier, qui vous dira quand et comment vous faire vacciner. ")

# Run as the child: the CLI, reporting its own peak and its children's (the PDF reader) on stderr. Linux keeps a
# peak across fork and exec, so each figure is at least its parent's size when it started: an upper bound.
CHILD = """
import resource, sys
from audioguide.cli import cli
try:
    cli.main(sys.argv[1:], standalone_mode=False)
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
          file=sys.stderr)
"""


def make_pdf(path: Path, pages: int) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("dv", "", str(DEJAVU / "DejaVuSans.ttf"))
    pdf.add_font("dv", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.set_title("Livret du patient")
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("dv", "", 8)
        pdf.set_xy(10, 5)
        pdf.cell(0, 4, "Livret du patient — Association")
        rng = random.Random(n)  # text that differs from page to page, or it would be taken for a running header
        words = WORDS.split()
        pdf.set_font("dv", "B", 16)
        pdf.set_xy(15, 15)
        pdf.cell(0, 10, " ".join(rng.sample(words, 5)).capitalize())
        pdf.set_font("dv", "", 10)
        pdf.set_xy(15, 30)
        pdf.multi_cell(180, 5, " ".join(rng.choice(words) for _ in range(420)).capitalize() + ".")
        pdf.set_font("dv", "", 8)
        pdf.set_xy(100, 288)
        pdf.cell(0, 4, str(n))
    pdf.output(str(path))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        return make_pdf(args.make, args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "livret.pdf"
        # Made by another process: a process started by this one would count this one's memory in its peak.
        subprocess.run([sys.executable, __file__, "--pages", str(args.pages), "--make", str(src)], check=True)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, "import", str(src), "--out", str(Path(tmp) / "g")],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode:
            sys.exit(proc.stdout + proc.stderr)
        cli_kb, reader_kb = map(int, proc.stderr.split()[-2:])
        draft = (Path(tmp) / "g" / "guide.md").stat().st_size
        print(f"PDF: {args.pages} pages, {src.stat().st_size / 1e3:.0f} KB; draft {draft / 1e3:.0f} KB")
        print(f"peak memory: CLI {cli_kb / 1e3:.0f} MB, PDF reader {reader_kb / 1e3:.0f} MB, "
              f"sum {(cli_kb + reader_kb) / 1e3:.0f} MB (target: under {TARGET_MB} MB)")
        print(f"time: {seconds:.1f} s")


if __name__ == "__main__":
    main()
