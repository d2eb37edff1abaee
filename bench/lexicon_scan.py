"""Find the French words espeak-ng says wrongly, systematically: run a whole word list through its phonemiser.

    python bench/lexicon_scan.py [/usr/share/dict/french] [--out bench/lexicon_scan.tsv]

The word list is Debian's `wfrench` (apt-get install wfrench). Words go to `espeak-ng -v fr -q -x`, one
word per line, in batches of 20 000 (one process per batch: about 8 CPU-minutes for the 346 000 words).
A word is a candidate when espeak-ng switches to another language's phonemes for it (`(en)` in the
output: its French dictionary flags the word as English), or when a written é is not said as [e]
(the accent is lost). The TSV lists each candidate with its phonemes and why; a person then reviews it
and keeps, in narration/data/pronunciation.yaml, the words a French speaker says differently.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

BATCH = 20_000


def phonemise(words: list[str]) -> list[str]:
    """One espeak-ng process for the batch; each word is its own sentence so output lines stay aligned."""
    text = "".join(f"{w}.\n" for w in words)
    out = subprocess.run(["espeak-ng", "-v", "fr", "-q", "-x"], input=text, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    if len(out) != len(words):  # a word that broke alignment: redo the batch in halves
        if len(words) == 1:
            return [" ".join(out)]
        half = len(words) // 2
        return phonemise(words[:half]) + phonemise(words[half:])
    return out


def reasons(word: str, ph: str) -> list[str]:
    why = []
    m = re.search(r"\((\w\w)\)", ph)
    if m and m.group(1) != "fr":
        why.append(f"switch:{m.group(1)}")
    # espeak-ng French writes é as [e] (and never as E or @): a missing [e] means the accent is lost.
    if "é" in word.lower() and "e" not in re.sub(r"\(\w+\)", "", ph):
        why.append("accent")
    return why


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("wordlist", nargs="?", default="/usr/share/dict/french")
    ap.add_argument("--out", default=str(Path(__file__).with_name("lexicon_scan.tsv")))
    args = ap.parse_args(argv)
    words = [w for w in Path(args.wordlist).read_text("utf-8").split("\n") if w.strip()]
    found = 0
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("word\tphonemes\twhy\n")
        for i in range(0, len(words), BATCH):
            batch = words[i:i + BATCH]
            for w, ph in zip(batch, phonemise(batch)):
                why = reasons(w, ph)
                if why:
                    found += 1
                    out.write(f"{w}\t{ph.strip()}\t{','.join(why)}\n")
            print(f"{min(i + BATCH, len(words))}/{len(words)} words, {found} candidates", file=sys.stderr)
    print(f"{len(words)} words scanned, {found} candidates in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
