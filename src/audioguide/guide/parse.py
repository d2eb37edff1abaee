"""From a raw tree (YAML or Markdown, with line marks) to a checked Guide: `parse_guide` runs its STEPS,
each reading one part of the tree, then raises once with every problem found."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from audioguide.exceptions import GuideError, Problem
from audioguide.guide.checks import Checker, check_blocks, check_id, join, toc_limit
from audioguide.guide.levels import ARTICLES, NOUN_GENDER, Level, Levels
from audioguide.guide.model import Chapter, Guide, Page, Part, default_description
from audioguide.guide.rules import (
    CHAPTER_KEYS,
    GUIDE_KEYS,
    LEVEL_KEYS,
    MAX_DATE_YEAR,
    MAX_PAGE_CHARS,
    PAGE_KEYS,
    PART_KEYS,
    RECORDING_EXTENSIONS,
)
from audioguide.guide.yamlsrc import Mark, Raw, YList, YMap
from audioguide.i18n import N_, _
from audioguide.web import web_address

T = TypeVar("T")


def _page(ck: Checker, raw: Raw, mark: Mark | None, path: str, seen: dict[str, str]) -> Page | None:
    m = ck.mapping(raw, mark, path, PAGE_KEYS)
    if m is None:
        return None
    pid = check_id(ck, m.get("id"), m.value_marks.get("id"), join(path, "id"), seen)
    blocks = check_blocks(ck, m["blocks"], m.value_marks.get("blocks"), join(path, "blocks")) if "blocks" in m else []
    narration = m.get("narration") if isinstance(m.get("narration"), str) else None
    if not blocks and not narration and "blocks" not in m:
        ck.add(m.mark, path, _("empty page: it has neither blocks nor narration"),
               _("add a `blocks:` list, or remove the page"))
    size = sum(len(b.text) + sum(map(len, b.items)) + sum(len(c.text) + sum(map(len, c.items)) for c in b.children)
               for b in blocks)
    if size > MAX_PAGE_CHARS:
        ck.add(m.mark, path, _("page is very long ({n} characters, limit {limit})").format(
            n=size, limit=MAX_PAGE_CHARS),
               _("split it into several pages so listeners can navigate it"))
    if pid is None or not isinstance(m.get("title"), str):
        return None
    recording = _recording(ck, m.get("recording"), m.value_marks.get("recording"), join(path, "recording"))
    return Page(pid, m["title"].strip(), blocks, narration, m.mark[0], recording)


def _recording(ck: Checker, value: object, mark: tuple[int, int] | None, path: str) -> str | None:
    """A page's declared recording: a relative path inside the guide's folder, of a format the build reads.
    Whether the file is there is checked where it is read (recordings.find), so a draft checked elsewhere (the
    studio's live check) is judged on its words alone."""
    if not isinstance(value, str):
        return None
    rel = value.strip().replace("\\", "/")
    parts = rel.split("/")
    if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel) or ".." in parts:
        ck.add(mark, path, _("the recording {value!r} is not inside the guide's folder").format(value=value),
               _("write its path from the guide's folder, e.g. recording: voix/accueil.mp3"))
        return None
    if not any(rel.lower().endswith(ext) for ext in RECORDING_EXTENSIONS):
        ck.add(mark, path, _("the recording {value!r} is not a sound file the build reads").format(value=value),
               _("use a .wav, .flac, .mp3, .m4a, .ogg or .webm file"))
        return None
    return rel


def _children(ck: Checker, m: YMap, path: str, key: str, empty: tuple[str, str], limit: tuple[str, str],
              read: Callable[[Raw, Mark | None, str], T | None]) -> list[T]:
    """A part's chapters or a chapter's pages: the list checked (not empty, not longer than a table of contents
    holds) and each item read where it is, the ones that read well kept in order."""
    items = m.get(key)
    if not isinstance(items, YList):
        return []
    if not items:
        ck.add(m.value_marks.get(key), join(path, key), *empty)
    toc_limit(ck, items, m.key_marks.get(key), join(path, key), *limit)
    made = [read(item, items.item_marks[i], f"{path}.{key}[{i}]") for i, item in enumerate(items)]
    return [x for x in made if x]


def _chapter(ck: Checker, raw: Raw, mark: Mark | None, path: str, chapter_ids: dict[str, str]) -> Chapter | None:
    m = ck.mapping(raw, mark, path, CHAPTER_KEYS)
    if m is None:
        return None
    cid = check_id(ck, m.get("id"), m.value_marks.get("id"), join(path, "id"), chapter_ids)
    page_ids: dict[str, str] = {}
    pages = _children(ck, m, path, "pages",
                      (_("empty chapter: it has no pages"), _("add at least one page, or remove the chapter")),
                      (N_("pages"), N_("split the chapter")),
                      lambda raw, mark, where: _page(ck, raw, mark, where, page_ids))
    if cid is None or not isinstance(m.get("title"), str):
        return None
    return Chapter(cid, m["title"].strip(), pages, description=_text(m, "description"),
                   menu_label=_text(m, "menu_label").strip(),
                   description_line=(m.value_marks.get("description") or (None,))[0])


@dataclass
class _Draft:
    """What the steps read (the checked top mapping) and what they find (the Guide's fields)."""

    ck: Checker
    top: YMap
    default_id: str
    fields: dict[str, Any] = field(default_factory=dict)  # Guide's keyword arguments, of their own types
    chapter_ids: dict[str, str] = field(default_factory=dict)


def _guide_id(d: _Draft) -> None:
    gid = d.fields["id"] = d.top.get("id", d.default_id)
    if check_id(d.ck, gid, d.top.value_marks.get("id", (1, 1)), "id", {}) is None and "id" not in d.top:
        d.ck.problems[-1:] = [Problem(d.ck.file, None, None, "id",
                                      _("the folder name {id!r} is not a valid guide id").format(id=gid),
                                      _("add an `id:` line with lowercase letters, digits and hyphens"))]


def _language(d: _Draft) -> None:
    language = d.fields["language"] = d.top.get("language", "fr-FR")
    if isinstance(language, str) and not language.lower().startswith("fr"):
        d.ck.add(d.top.value_marks.get("language"), "language",
                 _("language {language!r} is not French").format(language=language),
                 _("audioguide narrates French guides: use fr-FR"))


def _addresses(d: _Draft) -> None:
    """`base_url:` and `link:` as the feed will print them."""
    for key in ("base_url", "link"):
        value = d.top.get(key)
        if isinstance(value, str) and value.strip():
            try:
                d.fields[key] = web_address(value.strip(), folder=key == "base_url")
            except ValueError as exc:
                d.ck.add(d.top.value_marks.get(key), key,
                         _("the address {address!r} {why}").format(address=value, why=exc),
                         _("write the full public address, e.g. https://asso.example/guide/"))


def _feed_guid(d: _Draft) -> None:
    """The guide's podcast guid in canonical form (lowercase, hyphens), or "" when it has none or a bad one."""
    d.fields["feed_guid"] = ""
    value = d.top.get("feed_guid")
    if not isinstance(value, str) or not value.strip():
        return
    try:
        d.fields["feed_guid"] = str(uuid.UUID(value.strip()))
    except ValueError:
        d.ck.add(d.top.value_marks.get("feed_guid"), "feed_guid", _("not a UUID: {value!r}").format(value=value),
                 _("write the podcast's guid as 8-4-4-4-12 hexadecimal digits, e.g. "
                   "917393e3-1b1e-5cef-ace4-edaa54e1f810, or remove the line to derive it from the id and publisher"))


_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]+")


def _email(d: _Draft) -> None:
    email = d.top.get("email")
    if isinstance(email, str) and email.strip() and not _EMAIL.fullmatch(email.strip()):
        d.ck.add(d.top.value_marks.get("email"), "email", _("not an e-mail address: {email!r}").format(email=email),
                 _("write one address, e.g. contact@asso.example (podcast apps use it to check who owns the feed)"))


def _date(d: _Draft) -> None:
    date = d.top.get("date")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            d.ck.add(d.top.value_marks.get("date"), "date", _("not a date: {date!r}").format(date=date),
                     _("write it as 2024-03-31"))
    elif isinstance(date, dt.datetime):
        date = date.date()
    if isinstance(date, dt.date) and date.year > MAX_DATE_YEAR:
        d.ck.add(d.top.value_marks.get("date"), "date", _("the year {year} is too far ahead: the EPUB and DAISY books "
                                                          "cannot carry a date after {limit}").format(
                     year=date.year, limit=MAX_DATE_YEAR), _("check the year (2204 for 2024?)"))
    d.fields["date"] = date if isinstance(date, dt.date) else None


def _intro(d: _Draft) -> None:
    d.fields["intro"] = _chapter(d.ck, d.top["intro"], d.top.value_marks["intro"], "intro", d.chapter_ids) \
        if isinstance(d.top.get("intro"), dict) else None


def _guide_parts(d: _Draft) -> None:
    d.fields["parts"] = _parts(d.ck, d.top, d.chapter_ids)


def _top_chapters(d: _Draft) -> None:
    """A two-level guide's `chapters:`."""
    raw_ch = d.top.get("chapters")
    d.fields["top_chapters"] = []
    if not isinstance(raw_ch, YList):
        return
    toc_limit(d.ck, [None] * ("intro" in d.top) + raw_ch, d.top.key_marks.get("chapters"), "chapters",
              N_("chapters (with the introduction)"), N_("group the chapters into parts, or split the guide"))
    d.fields["top_chapters"] = [c for j, rc in enumerate(raw_ch)
                                if (c := _chapter(d.ck, rc, raw_ch.item_marks[j], f"chapters[{j}]", d.chapter_ids))]


def _guide_levels(d: _Draft) -> None:
    d.fields["levels"] = _levels(d.ck, d.top)


def _guide_pace(d: _Draft) -> None:
    d.fields["pace"] = _pace(d.ck, d.top)


def _lexicon(d: _Draft) -> None:
    """`lexicon:` word: spoken form, each a text, none saying another entry."""
    lexicon: dict[str, str] = {}
    d.fields["lexicon"] = lexicon
    lex = d.top.get("lexicon")
    if not isinstance(lex, YMap):
        return
    for word, say in lex.items():
        if not isinstance(say, str) or not say.strip():
            d.ck.add(lex.value_marks.get(word), f"lexicon.{word}", _("expected the spoken form as text"),
                     _("e.g. {example}").format(example=f'{word}: "{word.lower()}"'))
        elif d.ck.text_content(word, lex.key_marks.get(word), f"lexicon.{word}", "lexicon") and \
                d.ck.text_content(say, lex.value_marks.get(word), f"lexicon.{word}", "lexicon"):
            lexicon[word] = say
    from audioguide.narration.lexicon import lexicon_problems

    for word, message in lexicon_problems(lexicon):
        d.ck.add(lex.key_marks.get(word), f"lexicon.{word}", message,
                 _("make the spoken form plain words that are not themselves lexicon entries"))


# Each step checks one part of the tree, adds its problems and its fields; in this order, so the problems
# are listed top to bottom as a volunteer reads the file.
STEPS = [_guide_id, _language, _addresses, _feed_guid, _email, _date, _intro, _guide_parts, _top_chapters,
         _guide_levels, _guide_pace, _lexicon]


def parse_guide(data: Raw, file: str, default_id: str) -> Guide:
    """Validate a loaded YAML tree and build the Guide; raise GuideError listing every problem."""
    ck = Checker(file)
    top = ck.mapping(data, (1, 1), "", GUIDE_KEYS)
    if top is None:
        raise GuideError(ck.problems)
    draft = _Draft(ck, top, default_id)
    for step in STEPS:
        step(draft)
    if ck.problems:
        raise GuideError(ck.problems)
    return _number(_guide(draft))


def _guide(d: _Draft) -> Guide:
    """The Guide from a tree the steps found no problem in."""
    top, title = d.top, d.top["title"].strip()
    return Guide(
        title=title, publisher=(top.get("publisher") or "").strip(),
        description=(top.get("description") or "").strip() or default_description(title, top.get("subtitle", "")),
        subtitle=top.get("subtitle", ""), author=top.get("author", ""), source=top.get("source", ""),
        rights=top.get("rights", ""), version=str(top.get("version", "")), email=(top.get("email") or "").strip(),
        **{"base_url": None, "link": "", **d.fields},
    )


def _number(guide: Guide) -> Guide:
    """Each chapter's place in the guide (the intro first) and in its part; each part's."""
    number = 0
    if guide.intro:
        number += 1
        guide.intro.number = number
    for pi, part in enumerate(guide.parts, 1):
        part.number = pi
        for ci, ch in enumerate(part.chapters, 1):
            number += 1
            ch.part, ch.number, ch.index_in_part = part, number, ci
    for ci, ch in enumerate(guide.top_chapters, 1):
        number += 1
        ch.number, ch.index_in_part = number, ci
    return guide


def _text(m: YMap, key: str) -> str:
    """An optional text field, or "" when it is missing or not text (`menu_label: 2024`): ck.mapping has
    already said so at its line, and the guide is refused with the other problems, not with a traceback."""
    value = m.get(key)
    return value if isinstance(value, str) else ""


def _parts(ck: Checker, top: YMap, chapter_ids: dict[str, str]) -> list[Part]:
    """`parts:` (three levels) or top-level `chapters:` (two levels): exactly one of them."""
    raw_parts = top.get("parts")
    if raw_parts is not None and top.get("chapters") is not None:
        ck.add(top.key_marks.get("chapters"), "chapters", _("the guide has both `parts:` and `chapters:`"),
               _("use `parts:` with chapters inside each part (three levels), or `chapters:` alone (two levels)"))
    elif raw_parts is None and top.get("chapters") is None:
        ck.add(top.mark, "chapters", _("the guide has no chapters"),
               _("add a `chapters:` list (two levels), or `parts:` each with its `chapters:` (three levels)"))
    elif top.get("chapters") == []:
        ck.add(top.value_marks.get("chapters"), "chapters", _("the guide has no chapters"),
               _("add at least one chapter"))
    parts: list[Part] = []
    part_ids: dict[str, str] = {}
    if not isinstance(raw_parts, YList):
        return parts
    if not raw_parts:
        ck.add(top.value_marks.get("parts"), "parts", _("the guide has no parts"),
               _("add at least one part, or list `chapters:` alone for a guide without parts"))
    toc_limit(ck, [None] * ("intro" in top) + raw_parts, top.key_marks.get("parts"), "parts",
              N_("parts (with the introduction)"), N_("group the parts"))
    for i, rp in enumerate(raw_parts):
        path, mark = f"parts[{i}]", raw_parts.item_marks[i]
        m = ck.mapping(rp, mark, path, PART_KEYS)
        if m is None:
            continue
        pid = check_id(ck, m.get("id"), m.value_marks.get("id"), join(path, "id"), part_ids)
        chapters = _children(ck, m, path, "chapters",
                             (_("empty part: it has no chapters"), _("add at least one chapter, or remove the part")),
                             (N_("chapters"), N_("split the part")),
                             lambda raw, mark, where: _chapter(ck, raw, mark, where, chapter_ids))
        if pid and isinstance(m.get("title"), str):
            parts.append(Part(pid, m["title"].strip(), chapters, menu_label=_text(m, "menu_label").strip()))
    return parts


def _pace(ck: Checker, top: YMap) -> str | None:
    from audioguide.config import PACES

    pace = top.get("pace")
    if not isinstance(pace, str):
        return None
    pace = pace.strip()
    if pace not in PACES:
        close = difflib.get_close_matches(pace.lower(), list(PACES), n=1, cutoff=0.5)
        ck.add(top.value_marks.get("pace"), "pace", _("unknown pace {pace!r}").format(pace=pace),
               (_("did you mean '{name}'?").format(name=close[0]) + " " if close else "")
               + _("use one of: {names}").format(names=", ".join(PACES)))
        return None
    return pace


def _levels(ck: Checker, top: YMap) -> Levels:
    """`levels: {part: partie, chapter: sujet, page: page}`; a noun outside NOUN_GENDER takes its article."""
    raw = top.get("levels")
    if raw is None or ck.mapping(raw, top.value_marks.get("levels"), "levels", LEVEL_KEYS) is None:
        return Levels()
    found = {}
    for key in LEVEL_KEYS:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        words = value.strip().split()
        article = words[0].lower() if len(words) == 2 and words[0].lower() in ARTICLES else None
        noun = (words[1] if article else value.strip()).lower()
        gender = ARTICLES[article] if article else NOUN_GENDER.get(noun)
        if gender is None or len(noun.split()) != 1:
            ck.add(raw.value_marks.get(key), f"levels.{key}",
                   _("cannot tell how to say {value!r} in a sentence").format(value=value),
                   _("write one noun with its article, e.g. `{key}: la fiche` or `{key}: le module`").format(key=key))
            continue
        found[key] = Level(noun, gender == "f")
    return Levels(**found)


