"""The pronunciation audit: espeak-ng's own phonemiser over every sentence the listener will hear.

`audioguide check --speech GUIDE` prints, for a guide author:
- each word espeak-ng reads with another language's phonemes (`-x` marks the switch, e.g. "(en)");
- each acronym the lexicon does not list (so the tool guessed how to say it);
- what the French rules could not read with confidence: a slash or a number layout that no rule knows (they
  reach the last-resort reading: "/" said "ou", digits said one group at a time), an abbreviation with a dot
  that no rule expands (its dot would end the sentence);
- each `allow` that removes a pronunciation fix audioguide ships (the word is then said wrong);
- each lexicon entry the guide uses, and the capitalised names to listen to (not counted as problems).
A word is allowed on purpose with `lexicon: {Bluetooth: allow}` in the guide.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from audioguide.exceptions import EngineError
from audioguide.guide import Block, Guide
from audioguide.i18n import N_, _, ngettext
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
        raise EngineError(_("espeak-ng not found: the speech audit uses its phonemiser."),
                          fix=_("install it with: apt-get install espeak-ng (or run script/bootstrap)"))
    if not sentences:
        return []
    text = "".join(s.replace("\n", " ").strip() + ("" if s.strip()[-1:] in ".!?…:" else ".") + "\n"
                   + _SENTINEL + "\n" for s in sentences)
    proc = subprocess.run([exe, "-v", voice, "-q", "-x", "--stdin"], input=text, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise EngineError(_("espeak-ng failed while phonemising: {error}").format(error=proc.stderr.strip()[:300]))
    mark = subprocess.run([exe, "-v", voice, "-q", "-x"], input=_SENTINEL, capture_output=True,
                          text=True).stdout.strip()
    out: list[str] = []
    cur: list[str] = []
    for line in proc.stdout.splitlines():
        if line.strip() == mark:
            out.append(" ".join(cur))
            cur = []
        elif line.strip():
            cur.append(line.strip())
    if len(out) != len(sentences):
        raise EngineError(_("espeak-ng's phoneme output could not be matched to the sentences."),
                          cause=_("{results} results for {n} sentences").format(results=len(out), n=len(sentences)))
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
    """Acronyms the lexicon does not list."""
    lexicon_used: Counter = field(default_factory=Counter)
    allowed: Counter = field(default_factory=Counter)
    uncertain: dict[str, Finding] = field(default_factory=dict)
    """Constructions the rules read by their last resort: Finding.language holds the kind."""
    hidden_fixes: dict[str, Finding] = field(default_factory=dict)
    """Words the guide allows as written although audioguide ships a fix for them."""
    names: dict[str, Finding] = field(default_factory=dict)
    """Capitalised names outside the word list: to listen to, not counted."""

    @property
    def problems(self) -> int:
        return len(self.foreign) + len(self.unknown) + len(self.uncertain) + len(self.hidden_fixes)

    def lines(self) -> list[str]:
        out = [_("Pronunciation audit: {n} sentences put through espeak-ng's phonemiser.").format(n=self.sentences)]

        def where(f: Finding) -> str:
            extra = f" (+{len(f.where) - 1})" if len(f.where) > 1 else ""
            return f"{f.where[0]}{extra}" if f.where else ""

        def section(title: str, findings: dict, line, fix: str, order=lambda f: f.word.lower()) -> None:
            if findings:
                out.extend(["", _("{title} ({count}):").format(title=title, count=len(findings))])
                out.extend(f"  {line(f)}  {where(f)}" for f in sorted(findings.values(), key=order))
                out.append(f"  -> {fix}")

        said = _("{word}  said “{said}”")
        section(_("Words read with another language's sounds"), self.foreign,
                lambda f: f"{f.word}  [{f.language}: {f.said}]",
                _("fix the pronunciation (lexicon: WORD: respelling, or [[phonemes]]) or accept the word "
                  "(lexicon: WORD: allow)."))
        section(_("Acronyms missing from the lexicon"), self.unknown, lambda f: said.format(word=f.word, said=f.said),
                _("add them to the guide's lexicon (WORD: spell, WORD: spoken form, or WORD: allow)."))
        section(_("Constructions read without certainty"), self.uncertain,
                lambda f: _("{kind}: “{word}”  said “{said}”").format(kind=_(_KINDS[f.language]), word=f.word,
                                                                   said=f.said),
                _("write them out in full in the text (“15 jours”, “référence”), or as the rules know them "
                  "(“14/9” after “tension”, “3 g/j”)."),
                order=lambda f: (f.language, f.word.lower()))
        section(_("Pronunciation fixes undone by “allow”"), self.hidden_fixes,
                lambda f: _("{word}  would be said “{said}” without the allow").format(word=f.word, said=f.said),
                _("remove “WORD: allow” from the guide's lexicon: audioguide already knows how to say it."))
        if self.names:
            out += ["", _("Proper names to listen to ({count}, not counted): ").format(count=len(self.names))
                    + ", ".join(sorted(self.names, key=str.lower))]
        if self.lexicon_used:
            out += ["", _("Lexicon entries used ({count}):").format(count=len(self.lexicon_used))]
            out.append("  " + ", ".join(f"{w} ×{n}" for w, n in sorted(self.lexicon_used.items())))
        if self.allowed:
            out += ["", _("Words the guide accepts: ") + ", ".join(sorted(self.allowed))]
        out += ["", _("No problems.") if not self.problems else
                ngettext("{n} problem.", "{n} problems.", self.problems).format(n=self.problems)]
        return out


Uncertain = Literal["slash", "number", "abbreviation"]
"""What the French rules read by their last resort (see uncertain)."""
_KINDS: dict[Uncertain, str] = {"slash": N_("slash"), "number": N_("number of an unknown layout"),
                                "abbreviation": N_("unknown abbreviation")}  # translated where shown
# Digits joined by signs no rule has read by the `numbers` step ("1.2.3", "12:30:00"), or pairs of digits
# in a row that are not a phone number ("45 67 89"): the last resort reads them one group at a time.
_ODD_NUMBER = re.compile(r"\d+(?:[./:;_]\d+)+|(?<![\d,])\d{2}(?: \d{2}){2,}(?![\d,])|\d+[-/]\d+(?:[-/]\d+)+")
_SLASH_TOKEN = re.compile(r"[^\s/]*/[^\s]*")
# A word of up to 6 letters with a dot, inside a sentence (a lower-case word or a digit follows).
_ABBREVIATION = re.compile(r"(?<![\w.@/:-])([^\W\d_]{1,6})\.(?=\s+[a-zà-ÿ0-9(])")


def uncertain(text: str, steps: Sequence[Callable[[str], str]]) -> list[tuple[Uncertain, str, str]]:
    """[(kind, written, said)] for what the French steps read by their last resort, found by running them:
    a "/" still there when the symbols step comes (said "ou"), odd digit layouts still there when the plain
    numbers step comes, a dot after an abbreviation still there at the end (it would end the sentence)."""
    from audioguide.narration import fr

    out: list[tuple[Uncertain, str, str]] = []
    said = text
    for step in steps:
        if step is fr.numbers:
            out += [("number", m.group(0), fr.final_guard(fr.numbers(m.group(0)))) for m in _ODD_NUMBER.finditer(said)]
        if step is fr.symbols:
            out += [("slash", m.group(0).strip(".,;:()"), fr.final_guard(fr.symbols(m.group(0))))
                    for m in _SLASH_TOKEN.finditer(said) if not re.fullmatch(r"\W*et/ou\W*", m.group(0), re.I)]
        said = step(said)
    for m in _ABBREVIATION.finditer(text):
        if re.fullmatch(r"[A-ZÀ-Ý]", m.group(1)) and re.match(r"[A-ZÀ-Ý]\.", text[m.start() - 2:m.start()]):
            continue  # the end of a spelled acronym (A.V.C.)
        # The abbreviation in its own context (three words before, two after): do the rules take its dot away?
        after = re.match(r"(?:\s+\S+){1,2}", text[m.end():])
        context = " ".join(text[:m.start()].split()[-3:] + [m.group(0) + (after.group(0) if after else "")])
        heard = context
        for step in steps:
            heard = step(heard)
        if re.search(r"\.\s+[a-zà-ÿ0-9]", heard):
            out.append(("abbreviation", m.group(0), heard))
    return out


def _block_texts(blocks: list[Block]) -> Iterator[str]:
    for b in blocks:
        if b.text:
            yield b.text
        yield from b.items
        yield from _block_texts(b.children)


def _strip_elision(word: str) -> str:
    return _ELIDED.sub("", word)


@dataclass
class _Audit:
    """What the steps of the audit share: the guide's texts, its lexicon, and the report they fill."""

    guide: Guide
    voice: str
    report: SpeechReport
    lexicon: dict[str, str]
    """The guide's lexicon over the shipped one."""
    allow: set[str]
    """Lower-case words the guide allows as written."""
    spoken_forms: set[str]
    """Lower-case words of the lexicon's spoken forms."""
    sentences: list[tuple[str, str]]
    """(where, voice text) of every sentence a build says."""
    sources: list[tuple[str, str]]
    """(where, written text) of every title, narration and block."""


def _gather(guide: Guide, voice: str) -> _Audit:
    """Every sentence a build says, as espeak-ng hears it, and every written text, with its chapter/page."""
    from audioguide.narration.script import ScriptWriter

    writer = ScriptWriter(guide)
    say = Voice(guide.lexicon, phonemes=True)
    lexicon = merged(guide.lexicon)
    sentences: list[tuple[str, str]] = []
    sources: list[tuple[str, str]] = []
    for chapter in guide.chapters:
        for page_script in writer.chapter(chapter):
            where = f"{chapter.id}/{page_script.page.id}"
            sentences += [(where, say(s.text)) for s in page_script.segments]
            page = page_script.page
            sources += [(where, t) for t in [chapter.title, page.title, page.narration or "",
                                              *_block_texts(page.blocks)] if t]
    return _Audit(guide, voice, SpeechReport(sentences=len(sentences)), lexicon,
                  allow={w.lower() for w, v in guide.lexicon.items() if v == ALLOW},
                  spoken_forms={w.lower() for v in lexicon.values() for w in _WORD.findall(v)},
                  sentences=sentences, sources=sources)


def _foreign_words(a: _Audit) -> None:
    """Which words switch language: sentences first, then each word of the flagged sentences on its own."""
    report = a.report
    flagged = [(where, text) for (where, text), ph in zip(a.sentences, phonemise([t for _, t in a.sentences],
                                                                                 a.voice)) if switches(ph)]
    candidates: dict[str, list[str]] = {}
    for where, text in flagged:
        for w in _WORD.findall(_SPELLED.sub(" ", text)):
            candidates.setdefault(_strip_elision(w), []).append(where)
    cand = list(candidates)
    for w, ph in zip(cand, phonemise(cand, a.voice)):
        sw = switches(ph)
        if not sw:
            continue
        if w.lower() in a.allow or any(p.lower() in a.allow for p in w.split("-")):
            report.allowed[w] += len(candidates[w])
            continue
        report.foreign[w] = Finding(w, sw[0][1], sorted(set(candidates[w]), key=candidates[w].index), sw[0][0])


def _last_resort(a: _Audit) -> None:
    """What the French rules read by their last resort, from the written text through the build's steps."""
    from audioguide.narration.pipeline import Normalizer

    steps = Normalizer(a.guide.lexicon).steps
    for where, text in a.sources:
        for kind, written, said in uncertain(text, steps):
            f = a.report.uncertain.setdefault(f"{kind}:{written}", Finding(written, said, language=kind))
            if where not in f.where:
                f.where.append(where)


def _hidden_fixes(a: _Audit) -> None:
    """An `allow` is for a word said in another language on purpose; on a word audioguide ships a fix for, it
    only removes the fix ("Assos" said /aso/ in e-santé)."""
    shipped = {w.lower(): e for w, e in pronunciations().items()}
    for word, value in a.guide.lexicon.items():
        entry = shipped.get(word.lower())
        if value == ALLOW and entry and entry.get("espeak"):
            wheres = [w for w, t in a.sources if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", t, re.I)]
            a.report.hidden_fixes[word] = Finding(word, entry["espeak"], sorted(set(wheres), key=wheres.index))


def _guessed_words(a: _Audit) -> None:
    """Acronyms and names the tool had to guess, and the lexicon entries used, from the written text."""
    from audioguide.narration.fr import _abbreviation_table

    abbreviations = set(_abbreviation_table())
    pron = {w.lower() for w in pronunciations()}
    report, lexicon = a.report, a.lexicon
    for where, text in a.sources:
        for m in re.finditer(r"(?<![\w.-])([A-ZÀ-Ý][\wÀ-ÿ]*(?:-[\wÀ-ÿ]+)*)", text):
            word = m.group(1)
            if word in lexicon:
                report.lexicon_used[word] += 1
                continue
            if word.lower() in pron or word.lower() in a.allow:
                continue  # counted below with the lower-case words
            upper = word.isupper() and len(word) >= 2
            if _read_with_confidence(word, text[:m.start()].rstrip(), upper, a, abbreviations):
                continue
            said = say_acronym(word, lexicon) if upper else word
            acronym = upper or any(sum(c.isupper() for c in p) >= 2 for p in word.split("-"))  # CeGIDD, PrEP
            f = (report.unknown if acronym else report.names).setdefault(word, Finding(word, said))
            if where not in f.where:
                f.where.append(where)
        for word in re.findall(r"(?<![\w-])[\wÀ-ÿ-]+(?![\w-])", text):
            if word.lower() in pron and word not in lexicon:
                report.lexicon_used[word.lower()] += 1


def _read_with_confidence(word: str, before: str, upper: bool, a: _Audit, abbreviations: set[str]) -> bool:
    """A capitalised word the rules say without guessing: a listed abbreviation, letters spelled around a
    number, or (not all capitals) a word that starts a sentence, is a lexicon spoken form or is French."""
    if word in abbreviations or word + "." in abbreviations:
        return True  # Dr, Mme: the abbreviations table says them
    if re.search(r"\d", word) and all(len(p) <= 3 and p.isupper() for p in re.findall(r"[^\W\d_]+", word)):
        return True  # T3, C2S, H1N1: letters spelled around a number, read with confidence
    if upper:
        return False
    sentence_start = not before or before[-1] in ".!?:«\"(-•*_"
    parts = [p for p in _strip_elision(word).split("-") if not p.isdigit()]
    return (sentence_start or word.lower() in a.spoken_forms
            or all(p in a.lexicon or tables.is_french_word(p) for p in parts))


STEPS = (_foreign_words, _last_resort, _hidden_fixes, _guessed_words)
"""The audit, in order: each step reads the gathered texts and fills its part of the report."""


def audit(guide: Guide, voice: str = "fr") -> SpeechReport:
    """Run espeak-ng's phonemiser over every sentence of the guide's narration (what espeak-ng hears), then the
    written text through the French rules and the lexicon: the STEPS, in order."""
    gathered = _gather(guide, voice)
    for step in STEPS:
        step(gathered)
    return gathered.report
