"""The pronunciation audit: espeak-ng's own phonemiser over every sentence the listener will hear.

`audioguide check --speech GUIDE` prints, for a guide author:
- each word espeak-ng reads with another language's phonemes (`-x` marks the switch, e.g. "(en)");
- each acronym or capitalised name the lexicon does not list (so the tool guessed how to say it);
- each lexicon entry the guide uses.
A word is allowed on purpose with `lexicon: {Bluetooth: allow}` in the guide.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field

from audioguide.exceptions import EngineError
from audioguide.guide import Block, Guide
from audioguide.narration import tables
from audioguide.narration.lexicon import ALLOW, Voice, merged, pronunciations, say_acronym

# One line that cannot occur in a guide, said between sentences so each sentence's phonemes can be found
# in the single espeak-ng output stream.
_SENTINEL = "Ouagadougou Ouagadougou Ouagadougou."
_SWITCH = re.compile(r"\((?!fr\))(\w{2,3}(?:-\w+)?)\)(.*?)(?:\(fr\)|$)")
_ELIDED = re.compile(r"^(?:qu|[cdjlmnst])'", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_SPELLED = re.compile(r"\b(?:[A-ZÀ-Ý]\.){2,}")


def phonemise(sentences: list[str], voice: str = "fr") -> list[str]:
    """espeak-ng's phonemes (`-x`) for each sentence, from one process for all of them."""
    exe = shutil.which("espeak-ng")
    if not exe:
        raise EngineError("espeak-ng not found: the speech audit uses its phonemiser.",
                          fix="install it with: apt-get install espeak-ng (or run script/bootstrap)")
    if not sentences:
        return []
    text = "".join(s.replace("\n", " ").strip() + ("" if s.strip()[-1:] in ".!?…:" else ".") + "\n"
                   + _SENTINEL + "\n" for s in sentences)
    proc = subprocess.run([exe, "-v", voice, "-q", "-x", "--stdin"], input=text, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise EngineError(f"espeak-ng failed while phonemising: {proc.stderr.strip()[:300]}")
    mark = subprocess.run([exe, "-v", voice, "-q", "-x"], input=_SENTINEL, capture_output=True,
                          text=True).stdout.strip()
    out, cur = [], []
    for line in proc.stdout.splitlines():
        if line.strip() == mark:
            out.append(" ".join(cur))
            cur = []
        elif line.strip():
            cur.append(line.strip())
    if len(out) != len(sentences):
        raise EngineError("espeak-ng's phoneme output could not be matched to the sentences.",
                          cause=f"{len(out)} results for {len(sentences)} sentences")
    return out


def switches(phonemes: str) -> list[tuple[str, str]]:
    """[(language, phonemes)] for each stretch said with another language's phonemes."""
    return [(m.group(1), m.group(2).strip()) for m in _SWITCH.finditer(phonemes)]


@dataclass
class Finding:
    word: str
    said: str
    """espeak-ng's phonemes, or the spoken form the tool chose."""
    where: list[str] = field(default_factory=list)
    language: str = ""


@dataclass
class SpeechReport:
    sentences: int = 0
    foreign: dict[str, Finding] = field(default_factory=dict)
    """Words read with another language's phonemes (not allowed by the guide)."""
    unknown: dict[str, Finding] = field(default_factory=dict)
    """Acronyms and capitalised names the lexicon does not list."""
    lexicon_used: Counter = field(default_factory=Counter)
    allowed: Counter = field(default_factory=Counter)

    @property
    def problems(self) -> int:
        return len(self.foreign) + len(self.unknown)

    def lines(self) -> list[str]:
        out = [f"Audit de prononciation : {self.sentences} phrases passées au phonémiseur d'espeak-ng."]

        def where(f: Finding) -> str:
            extra = f" (+{len(f.where) - 1})" if len(f.where) > 1 else ""
            return f"{f.where[0]}{extra}" if f.where else ""

        if self.foreign:
            out += ["", f"Mots lus avec les sons d'une autre langue ({len(self.foreign)}) :"]
            for f in sorted(self.foreign.values(), key=lambda f: f.word.lower()):
                out.append(f"  {f.word}  [{f.language}: {f.said}]  {where(f)}")
            out.append("  -> corrigez la prononciation (lexicon: MOT: respelling, ou [[phonèmes]]) "
                       "ou acceptez le mot (lexicon: MOT: allow).")
        if self.unknown:
            out += ["", f"Sigles et noms propres absents du lexique ({len(self.unknown)}) :"]
            for f in sorted(self.unknown.values(), key=lambda f: f.word.lower()):
                out.append(f"  {f.word}  dit « {f.said} »  {where(f)}")
            out.append("  -> ajoutez-les au lexique du guide (MOT: spell, MOT: forme dite, ou MOT: allow).")
        if self.lexicon_used:
            out += ["", f"Entrées du lexique utilisées ({len(self.lexicon_used)}) :"]
            out.append("  " + ", ".join(f"{w} ×{n}" for w, n in sorted(self.lexicon_used.items())))
        if self.allowed:
            out += ["", "Mots acceptés par le guide : " + ", ".join(sorted(self.allowed))]
        out += ["", "Aucun problème." if not self.problems else f"{self.problems} problème(s)."]
        return out


def _block_texts(blocks: list[Block]):
    for b in blocks:
        if b.text:
            yield b.text
        yield from b.items
        yield from _block_texts(b.children)


def _strip_elision(word: str) -> str:
    return _ELIDED.sub("", word)


def audit(guide: Guide, voice: str = "fr") -> SpeechReport:
    """Run espeak-ng's phonemiser over every sentence of the guide's narration (what espeak-ng hears)."""
    from audioguide.narration.script import ScriptWriter

    report = SpeechReport()
    writer = ScriptWriter(guide)
    say = Voice(guide.lexicon, phonemes=True)
    lexicon = merged(guide.lexicon)
    allow = {w.lower() for w, v in guide.lexicon.items() if v == ALLOW}
    spoken_forms = {w.lower() for v in lexicon.values() for w in _WORD.findall(v)}

    sentences: list[tuple[str, str]] = []  # (where, voice text)
    sources: list[tuple[str, str]] = []  # (where, written source text)
    for chapter in guide.chapters:
        for page_script in writer.chapter(chapter):
            where = f"{chapter.id}/{page_script.page.id}"
            sentences += [(where, say(s.text)) for s in page_script.segments]
            page = page_script.page
            sources += [(where, t) for t in [chapter.title, page.title, page.narration or "",
                                              *_block_texts(page.blocks)] if t]
    report.sentences = len(sentences)

    # Which words switch: sentences first, then each word of the flagged sentences on its own.
    flagged = [(where, text) for (where, text), ph in zip(sentences, phonemise([t for _, t in sentences], voice))
               if switches(ph)]
    candidates: dict[str, list[str]] = {}
    for where, text in flagged:
        for w in _WORD.findall(_SPELLED.sub(" ", text)):
            w = _strip_elision(w)
            candidates.setdefault(w, []).append(where)
    cand = list(candidates)
    for w, ph in zip(cand, phonemise(cand, voice)):
        sw = switches(ph)
        if not sw:
            continue
        if w.lower() in allow or any(p.lower() in allow for p in w.split("-")):
            report.allowed[w] += len(candidates[w])
            continue
        report.foreign[w] = Finding(w, sw[0][1], sorted(set(candidates[w]), key=candidates[w].index), sw[0][0])

    # Acronyms and names the tool had to guess, from the written text.
    pron = {w.lower() for w in pronunciations()}
    for where, text in sources:
        for m in re.finditer(r"(?<![\w.-])([A-ZÀ-Ý][\wÀ-ÿ]*(?:-[\wÀ-ÿ]+)*)", text):
            word = m.group(1)
            before = text[:m.start()].rstrip()
            if word in lexicon:
                report.lexicon_used[word] += 1
                continue
            if word.lower() in pron or word.lower() in allow:
                continue  # counted below with the lower-case words
            upper = word.isupper() and len(word) >= 2
            sentence_start = not before or before[-1] in ".!?:«\"(-•*_"
            parts = [p for p in _strip_elision(word).split("-") if not p.isdigit()]
            if not upper and (sentence_start or word.lower() in spoken_forms
                              or all(p in lexicon or tables.is_french_word(p) for p in parts)):
                continue
            said = say_acronym(word, lexicon) if upper else word
            f = report.unknown.setdefault(word, Finding(word, said))
            if where not in f.where:
                f.where.append(where)
        for word in re.findall(r"(?<![\w-])[\wÀ-ÿ-]+(?![\w-])", text):
            if word.lower() in pron and word not in lexicon:
                report.lexicon_used[word.lower()] += 1
    return report
