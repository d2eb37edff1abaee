"""The guide file as the studio edits it: versions, page sections, checks of a draft, lexicon entries.

A page's text is the lines of its section of the Markdown file: from its heading to the next heading of its
level or above. The whole file can always be edited too (YAML guides are edited whole). Every save names the
version (sha256 of the file) it was based on, so a second tab's stale save is refused, never merged silently.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audioguide.exceptions import AudioguideError, GuideError, Problem
from audioguide.files import atomic_path

if TYPE_CHECKING:
    from audioguide.guide import Guide

_HEADING = re.compile(r"^(#{1,6})\s")
_FENCE = re.compile(r"^\s*(```|~~~)")
_saving = threading.Lock()


class StaleError(AudioguideError):
    """The file changed since the editor loaded it (another tab, another program)."""


def version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read(file: Path) -> str:
    return file.read_text(encoding="utf-8")


def require(current: str, based_on: str) -> None:
    """Refuse, in French, a save based on another version than the file's `current` text."""
    if version(current) != based_on:
        raise StaleError("Ce guide a été modifié ailleurs (dans un autre onglet ou un autre programme) depuis que "
                         "vous avez ouvert cette page : votre texte n'a pas été enregistré, pour ne pas effacer "
                         "l'autre modification.",
                         fix="copiez votre texte, rechargez la page, puis recollez-le à sa place")


def write(file: Path, text: str, based_on: str) -> str:
    """Write `text` if the file is still at version `based_on`; return the new version."""
    with _saving:  # two saves at once: the second sees the first's version
        require(read(file), based_on)
        with atomic_path(file) as part:
            part.write_text(text, encoding="utf-8")
    return version(text)


def headings(lines: list[str]) -> list[tuple[int, int]]:
    """(0-based line index, level) of every Markdown heading outside fenced blocks."""
    out, fenced = [], False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            out.append((i, len(m.group(1))))
    return out


def section(text: str, line: int) -> tuple[int, int]:
    """[start, end) line indexes of the section whose heading is on 1-based `line`."""
    lines = text.split("\n")
    start = line - 1
    level = next((lv for i, lv in headings(lines) if i == start), None)
    if level is None:
        raise AudioguideError(f"La ligne {line} n'est pas un titre de page.", fix="rechargez la page")
    end = next((i for i, lv in headings(lines) if i > start and lv <= level), len(lines))
    while end > start + 1 and not lines[end - 1].strip():  # the blank lines before the next heading stay put
        end -= 1
    return start, end


def page_text(text: str, line: int) -> str:
    start, end = section(text, line)
    return "\n".join(text.split("\n")[start:end])


def splice(text: str, line: int, page: str) -> str:
    """The file with the section at `line` replaced by `page`."""
    lines = text.split("\n")
    start, end = section(text, line)
    return "\n".join(lines[:start] + page.rstrip("\n").split("\n") + lines[end:])


@dataclass
class Checked:
    problems: list[Problem]
    guide: Guide | None


def check_text(file: Path, text: str) -> Checked:
    """Validate `text` as the guide file `file` would be, without writing it: the same problems as `check`,
    named by the file's own name."""
    from audioguide.guide import load_guide

    with tempfile.TemporaryDirectory(prefix="audioguide-studio-check-") as tmp:
        # The same folder and file names: the guide's default id, and so its messages, are the same.
        draft = Path(tmp) / file.parent.name / file.name
        draft.parent.mkdir()
        draft.write_text(text, encoding="utf-8")
        try:
            guide = load_guide(draft)
        except GuideError as exc:
            return Checked([_renamed(p, str(draft), file.name) for p in exc.problems], None)
        except AudioguideError as exc:
            return Checked([Problem(file.name, None, None, "", exc.message, exc.fix)], None)
        return Checked([], guide)


def _renamed(p: Problem, tmp: str, name: str) -> Problem:
    return Problem(name if p.file == tmp else p.file.replace(tmp, name), p.line, p.column, p.field,
                   p.message.replace(tmp, name), p.fix.replace(tmp, name) if p.fix else p.fix)


_WORD = re.compile(r"^[^\W\d_][\w'’ -]{0,60}$")


def add_lexicon(text: str, is_markdown: bool, word: str, say: str) -> str:
    """The guide text with `word: say` in its top-level `lexicon:` (added if missing, replaced if there)."""
    if not _WORD.match(word) or "\n" in say or not say.strip() or len(say) > 200:
        raise AudioguideError(f"« {word} » ou « {say} » ne peut pas aller dans le lexique.",
                              fix="un mot d'une ligne, et sa prononciation écrite sur une ligne")
    entry = f"  {_yaml_key(word)}: {_yaml_value(say)}"
    lines = text.split("\n")
    top = _top_lines(lines, is_markdown)
    end = top.stop
    at = next((i for i in top if re.match(r"^lexicon\s*:", lines[i])), None)
    if at is None:
        lines[end:end] = ["lexicon:", entry]
        return "\n".join(lines)
    if lines[at].split(":", 1)[1].strip():
        raise AudioguideError("Le lexique du guide est écrit sur une seule ligne (lexicon: {…}).",
                              fix="écrivez-le une entrée par ligne, puis recommencez")
    stop = at + 1
    while stop < end and (lines[stop].startswith((" ", "\t")) or not lines[stop].strip()):
        stop += 1
    _set_entry(lines, at, stop, word, entry)
    return "\n".join(lines)


def _top_lines(lines: list[str], is_markdown: bool) -> range:
    """The lines of the guide's top-level details: the front matter of a Markdown guide, a YAML guide whole."""
    if not is_markdown:
        return range(0, len(lines))
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if not lines or lines[0].strip() != "---" or end is None:
        raise AudioguideError("Le guide n'a pas de détails en tête (entre deux lignes ---).",
                              fix="ajoutez en haut : --- puis title: … puis ---")
    return range(1, end)


def _set_entry(lines: list[str], at: int, stop: int, word: str, entry: str) -> None:
    """Replace WORD's line in the `lexicon:` block LINES[at:stop], or add ENTRY after its last entry."""
    for i in range(at + 1, stop):
        key = lines[i].strip().split(":", 1)[0].strip().strip("'\"")
        if key == word:
            lines[i] = entry
            return
    while stop > at + 1 and not lines[stop - 1].strip():
        stop -= 1
    lines[stop:stop] = [entry]


def _yaml_key(word: str) -> str:
    return word if re.fullmatch(r"[^\W\d_][\w-]*", word) else '"' + word.replace('"', '\\"') + '"'


def _yaml_value(say: str) -> str:
    return '"' + say.replace("\\", "\\\\").replace('"', '\\"') + '"'
