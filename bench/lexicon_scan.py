"""Find the French words espeak-ng says wrongly, systematically: run a whole word list through its phonemiser.

    python bench/lexicon_scan.py [/usr/share/dict/french] [--out bench/lexicon_scan.tsv]

The word list is Debian's `wfrench` (apt-get install wfrench). Words go to `espeak-ng -v fr -q -x`, one
word per line, in batches of 20 000 (one process per batch: about 8 CPU-minutes for the 346 000 words).
A word is a candidate when espeak-ng switches to another language's phonemes for it (`(en)` in the
output: its French dictionary flags the word as English), or when a written é is not said as [e]
(the accent is lost). The TSV lists each candidate with its phonemes and why.

    python bench/lexicon_scan.py --propose [--english /usr/share/dict/american-english]

then proposes a fix for each candidate that is a French word and not an English one (Debian's
`wamerican` list: "bowling", "atoll", "canyons" are loans or shared words, said the English way by
French speakers too, so they are left for a person to review). A fix is a respelling that keeps the
French pronunciation by French spelling rules — "th" is said t, "y" between consonants is said i, a final
s, d or z is silent, î is said i, "ai" is said è, a doubled p, f, t, b or d is said single — and that espeak-ng
then reads in French (checked again, in one batch). Proposals go to bench/lexicon_proposals.tsv;
reviewed ones are copied into narration/data/pronunciation.yaml.
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


def respellings(word: str) -> list[str]:
    """Spellings French readers say exactly like `word`, most faithful first."""
    forms = [word]
    if "th" in word:
        forms.append(re.sub(r"th$", "te", word).replace("th", "t"))  # aneth: the final t is heard
    # Same sounds, other letters: î is said i (lipides -> lipîdes), "ai" is said è (bipède -> bipaide).
    forms += [f for f in (word.replace("i", "î", 1), word.replace("è", "ai")) if f != word]
    # A doubled p, f, t, b or d before a vowel sounds the same (lipides -> lippides, calife -> califfe).
    forms += [word[:i + 1] + word[i:] for i in range(1, len(word) - 1)
              if word[i] in "pftbd" and word[i - 1] != word[i] != word[i + 1] and word[i + 1] in "aeiouyéèêâîôû"]
    out = []
    for f in forms:
        y = re.sub(r"(?<=[^aeiouéèêàâîôû])y(?=[^aeiouéèêàâîôû]|$)", "i", f)
        for g in ([f, y] if y != f else [f]):
            out.append(g)
            if re.search(r"(?<=[^aeiouys])s$|(?<=[aeiouy])s$|(?<=ie)d$", g):
                out.append(g[:-1])  # bruns -> brun, assied -> assie: the last letter is silent
            if g.endswith("ez"):
                out.append(g[:-2] + "é")
    return [o for o in dict.fromkeys(out) if o != word]


def propose(scan: Path, english: Path, out_path: Path) -> int:
    rows = [line.split("\t") for line in scan.read_text("utf-8").splitlines()[1:]]
    english_words = {w.lower() for w in english.read_text("utf-8", errors="replace").split()}
    todo = [(w, ph) for w, ph, why in rows if "switch" in why and w.lower() not in english_words and "-" not in w]
    tries = [(w, r) for w, _ in todo for r in respellings(w)]
    said = phonemise([r for _, r in tries])
    fixed: dict[str, tuple[str, str]] = {}
    for (w, r), ph in zip(tries, said):
        if w not in fixed and not re.search(r"\((?!fr)\w+\)|_\|", ph):  # no switch, no odd pause
            fixed[w] = (r, ph.strip())
    with open(out_path, "w", encoding="utf-8") as out:
        out.write("word\trespelling\tphonemes\twas\n")
        for w, ph in todo:
            if w in fixed:
                out.write(f"{w}\t{fixed[w][0]}\t{fixed[w][1]}\t{ph}\n")
    shared = sum(1 for w, ph, why in rows if "switch" in why and w.lower() in english_words)
    print(f"{len(rows)} candidates: {len(todo)} French-only words, {len(fixed)} with a French respelling "
          f"({len(todo) - len(fixed)} without); {shared} also English words, left for review -> {out_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("wordlist", nargs="?", default="/usr/share/dict/french")
    ap.add_argument("--out", default=str(Path(__file__).with_name("lexicon_scan.tsv")))
    ap.add_argument("--propose", action="store_true", help="propose respellings from an existing scan")
    ap.add_argument("--english", default="/usr/share/dict/american-english")
    args = ap.parse_args(argv)
    if args.propose:
        return propose(Path(args.out), Path(args.english), Path(args.out).with_name("lexicon_proposals.tsv"))
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
