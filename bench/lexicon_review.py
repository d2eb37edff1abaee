"""Turn reviewed proposals (bench/lexicon_proposals.tsv) into narration/data/pronunciation-scan.yaml.

    python bench/lexicon_review.py

REJECTED lists what the review (by ear and by phonemes) threw out, with why; everything else is kept.
"""

from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE.parent / "src" / "audioguide" / "narration" / "data" / "pronunciation-scan.yaml"
REJECTED = {
    # "gn" in the respelling is read [nj] (prognathe is [prɔgnat]): worse than before.
    **dict.fromkeys(["agnathe", "agnathes", "pathognomonique", "plectognathes", "prognathe", "prognathes",
                     "prognathisme", "syngnathe", "syngnathidés"], "gn read [nj]"),
    # The respelling loses a sound: aneth [anɛt] -> 'ant, spart [spaʁt] -> sp'ar, doigtons -> dwagt'O~.
    **dict.fromkeys(["aneth", "taleth", "talleth", "spart", "sparts", "doigtons"], "a sound is lost"),
    **dict.fromkeys(["watergang", "wateringue"], "Dutch/English place words: no better"),
}
HEADER = """\
# VOICE ONLY, generated: `python bench/lexicon_scan.py`, then `--propose`, then `python bench/lexicon_review.py`.
# French words of Debian's wfrench list that espeak-ng 1.51 reads with English phonemes ("arthrose" ->
# (en)'A@TroUz, "bruns" -> (en)br'Vnz, "lipides" -> (en)l'IpaIdz), each with a respelling that French
# spelling rules say the same way and that espeak-ng reads in French. Words also in the English word
# list (wamerican: bowling, atoll…) are not here. Entries in pronunciation.yaml win over these.
# Format: word: respelling given to espeak-ng only.
"""


def main() -> None:
    rows = [line.split("\t") for line in (HERE / "lexicon_proposals.tsv").read_text("utf-8").splitlines()[1:]]
    kept = [(w, r) for w, r, *_ in rows if w not in REJECTED]
    OUT.write_text(HEADER + "".join(f'"{w}": "{r}"\n' for w, r in kept), "utf-8")
    print(f"{len(kept)} entries written to {OUT} ({len(rows) - len(kept)} rejected in review)")


if __name__ == "__main__":
    main()
