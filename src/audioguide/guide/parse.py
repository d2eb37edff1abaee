"""From a raw tree (YAML or Markdown, with line marks) to a checked Guide: `parse_guide` runs its STEPS,
each reading one part of the tree, then raises once with every problem found."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import uuid

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
)
from audioguide.guide.yamlsrc import YMap
from audioguide.web import web_address


def _page(ck: Checker, raw, mark, path: str, seen: dict) -> Page | None:
    m = ck.mapping(raw, mark, path, PAGE_KEYS)
    if m is None:
        return None
    pid = check_id(ck, m.get("id"), m.value_marks.get("id"), join(path, "id"), seen)
    blocks = check_blocks(ck, m["blocks"], m.value_marks.get("blocks"), join(path, "blocks")) if "blocks" in m else []
    narration = m.get("narration") if isinstance(m.get("narration"), str) else None
    if not blocks and not narration and "blocks" not in m:
        ck.add(m.mark, path, "empty page: it has neither blocks nor narration",
               "add a `blocks:` list, or remove the page")
    size = sum(len(b.text) + sum(map(len, b.items)) + sum(len(c.text) + sum(map(len, c.items)) for c in b.children)
               for b in blocks)
    if size > MAX_PAGE_CHARS:
        ck.add(m.mark, path, f"page is very long ({size} characters, limit {MAX_PAGE_CHARS})",
               "split it into several pages so listeners can navigate it")
    if pid is None or not isinstance(m.get("title"), str):
        return None
    return Page(pid, m["title"].strip(), blocks, narration, m.mark[0])


def _chapter(ck: Checker, raw, mark, path: str, chapter_ids: dict) -> Chapter | None:
    m = ck.mapping(raw, mark, path, CHAPTER_KEYS)
    if m is None:
        return None
    cid = check_id(ck, m.get("id"), m.value_marks.get("id"), join(path, "id"), chapter_ids)
    pages: list[Page] = []
    raw_pages = m.get("pages")
    if isinstance(raw_pages, list):
        if not raw_pages:
            ck.add(m.value_marks.get("pages"), join(path, "pages"), "empty chapter: it has no pages",
                   "add at least one page, or remove the chapter")
        toc_limit(ck, raw_pages, m.key_marks.get("pages"), join(path, "pages"), "pages", "split the chapter")
        page_ids: dict[str, str] = {}
        for i, rp in enumerate(raw_pages):
            p = _page(ck, rp, raw_pages.item_marks[i], f"{path}.pages[{i}]", page_ids)
            if p:
                pages.append(p)
    if cid is None or not isinstance(m.get("title"), str):
        return None
    return Chapter(cid, m["title"].strip(), pages, description=m.get("description") or "",
                   menu_label=(m.get("menu_label") or "").strip())


_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"'.]+")


def _feed_guid(ck: Checker, top) -> str:
    """The guide's podcast guid in canonical form (lowercase, hyphens), or "" when it has none or a bad one."""
    value = top.get("feed_guid")
    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        ck.add(top.value_marks.get("feed_guid"), "feed_guid", f"not a UUID: {value!r}",
               "write the podcast's guid as 8-4-4-4-12 hexadecimal digits, e.g. "
               "917393e3-1b1e-5cef-ace4-edaa54e1f810, or remove the line to derive it from the id and publisher")
        return ""


def parse_guide(data, file: str, default_id: str) -> Guide:
    """Validate a loaded YAML tree and build the Guide; raise GuideError listing every problem."""
    ck = Checker(file)
    top = ck.mapping(data, (1, 1), "", GUIDE_KEYS)
    if top is None:
        raise GuideError(ck.problems)
    chapter_ids: dict[str, str] = {}
    gid = top.get("id", default_id)
    if check_id(ck, gid, top.value_marks.get("id", (1, 1)), "id", {}) is None and "id" not in top:
        ck.problems[-1:] = [Problem(file, None, None, "id", f"the folder name {gid!r} is not a valid guide id",
                                    "add an `id:` line with lowercase letters, digits and hyphens")]
    language = top.get("language", "fr-FR")
    if isinstance(language, str) and not language.lower().startswith("fr"):
        ck.add(top.value_marks.get("language"), "language", f"language {language!r} is not French",
               "audioguide narrates French guides: use fr-FR")
    addresses: dict[str, str] = {}
    for key in ("base_url", "link"):
        value = top.get(key)
        if isinstance(value, str) and value.strip():
            try:
                addresses[key] = web_address(value.strip(), folder=key == "base_url")
            except ValueError as exc:
                ck.add(top.value_marks.get(key), key, f"the address {value!r} {exc}",
                       "write the full public address, e.g. https://asso.example/guide/")
    feed_guid = _feed_guid(ck, top)
    email = top.get("email")
    if isinstance(email, str) and email.strip() and not _EMAIL.fullmatch(email.strip()):
        ck.add(top.value_marks.get("email"), "email", f"not an e-mail address: {email!r}",
               "write one address, e.g. contact@asso.example (podcast apps use it to check who owns the feed)")
    date = top.get("date")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            ck.add(top.value_marks.get("date"), "date", f"not a date: {date!r}", "write it as 2024-03-31")
    elif isinstance(date, dt.datetime):
        date = date.date()
    if isinstance(date, dt.date) and date.year > MAX_DATE_YEAR:
        ck.add(top.value_marks.get("date"), "date", f"the year {date.year} is too far ahead: the EPUB and DAISY "
               f"books cannot carry a date after {MAX_DATE_YEAR}", "check the year (2204 for 2024?)")

    intro = None
    if isinstance(top.get("intro"), dict):
        intro = _chapter(ck, top["intro"], top.value_marks["intro"], "intro", chapter_ids)
    parts = _parts(ck, top, chapter_ids)
    raw_ch = top.get("chapters")
    if isinstance(raw_ch, list):
        toc_limit(ck, [None] * ("intro" in top) + raw_ch, top.key_marks.get("chapters"), "chapters",
                   "chapters (with the introduction)", "group the chapters into parts, or split the guide")
    top_chapters = [c for j, rc in enumerate(raw_ch) if (c := _chapter(ck, rc, raw_ch.item_marks[j],
                                                                        f"chapters[{j}]", chapter_ids))] \
        if isinstance(raw_ch, list) else []
    levels = _levels(ck, top)
    pace = _pace(ck, top)

    lexicon: dict[str, str] = {}
    if isinstance(top.get("lexicon"), dict):
        lex = top["lexicon"]
        for word, say in lex.items():
            if not isinstance(say, str) or not say.strip():
                ck.add(lex.value_marks.get(word), f"lexicon.{word}", "expected the spoken form as text",
                       f'e.g. {word}: "{word.lower()}"')
            elif ck.text_content(word, lex.key_marks.get(word), f"lexicon.{word}", "lexicon") and \
                    ck.text_content(say, lex.value_marks.get(word), f"lexicon.{word}", "lexicon"):
                lexicon[word] = say
        from audioguide.narration.lexicon import lexicon_problems

        for word, message in lexicon_problems(lexicon):
            ck.add(lex.key_marks.get(word), f"lexicon.{word}", message,
                   "make the spoken form plain words that are not themselves lexicon entries")

    if ck.problems:
        raise GuideError(ck.problems)

    guide = Guide(
        id=gid, title=top["title"].strip(), publisher=(top.get("publisher") or "").strip(),
        description=(top.get("description") or "").strip() or default_description(top["title"].strip(),
                                                                                   top.get("subtitle", "")),
        date=date if isinstance(date, dt.date) else None, subtitle=top.get("subtitle", ""),
        author=top.get("author", ""), language=language, source=top.get("source", ""),
        rights=top.get("rights", ""), version=str(top.get("version", "")), base_url=addresses.get("base_url"),
        email=(top.get("email") or "").strip(), link=addresses.get("link", ""), feed_guid=feed_guid,
        intro=intro, parts=parts, top_chapters=top_chapters, lexicon=lexicon, levels=levels,
        pace=pace,
    )
    number = 0
    if intro:
        number += 1
        intro.number = number
    for pi, part in enumerate(parts, 1):
        part.number = pi
        for ci, ch in enumerate(part.chapters, 1):
            number += 1
            ch.part, ch.number, ch.index_in_part = part, number, ci
    for ci, ch in enumerate(top_chapters, 1):
        number += 1
        ch.number, ch.index_in_part = number, ci
    return guide


def _parts(ck: Checker, top: YMap, chapter_ids: dict) -> list[Part]:
    """`parts:` (three levels) or top-level `chapters:` (two levels): exactly one of them."""
    raw_parts = top.get("parts")
    if raw_parts is not None and top.get("chapters") is not None:
        ck.add(top.key_marks.get("chapters"), "chapters", "the guide has both `parts:` and `chapters:`",
               "use `parts:` with chapters inside each part (three levels), or `chapters:` alone (two levels)")
    elif raw_parts is None and top.get("chapters") is None:
        ck.add(top.mark, "chapters", "the guide has no chapters",
               "add a `chapters:` list (two levels), or `parts:` each with its `chapters:` (three levels)")
    elif top.get("chapters") == []:
        ck.add(top.value_marks.get("chapters"), "chapters", "the guide has no chapters", "add at least one chapter")
    parts: list[Part] = []
    part_ids: dict[str, str] = {}
    if not isinstance(raw_parts, list):
        return parts
    if not raw_parts:
        ck.add(top.value_marks.get("parts"), "parts", "the guide has no parts",
               "add at least one part, or list `chapters:` alone for a guide without parts")
    toc_limit(ck, [None] * ("intro" in top) + raw_parts, top.key_marks.get("parts"), "parts",
               "parts (with the introduction)", "group the parts")
    for i, rp in enumerate(raw_parts):
        path, mark = f"parts[{i}]", raw_parts.item_marks[i]
        m = ck.mapping(rp, mark, path, PART_KEYS)
        if m is None:
            continue
        pid = check_id(ck, m.get("id"), m.value_marks.get("id"), join(path, "id"), part_ids)
        chapters = []
        raw_ch = m.get("chapters")
        if isinstance(raw_ch, list):
            if not raw_ch:
                ck.add(m.value_marks.get("chapters"), join(path, "chapters"), "empty part: it has no chapters",
                       "add at least one chapter, or remove the part")
            toc_limit(ck, raw_ch, m.key_marks.get("chapters"), join(path, "chapters"), "chapters",
                       "split the part")
            for j, rc in enumerate(raw_ch):
                c = _chapter(ck, rc, raw_ch.item_marks[j], f"{path}.chapters[{j}]", chapter_ids)
                if c:
                    chapters.append(c)
        if pid and isinstance(m.get("title"), str):
            parts.append(Part(pid, m["title"].strip(), chapters, menu_label=(m.get("menu_label") or "").strip()))
    return parts


def _pace(ck: Checker, top: YMap) -> str | None:
    from audioguide.config import PACES

    pace = top.get("pace")
    if not isinstance(pace, str):
        return None
    pace = pace.strip()
    if pace not in PACES:
        close = difflib.get_close_matches(pace.lower(), list(PACES), n=1, cutoff=0.5)
        ck.add(top.value_marks.get("pace"), "pace", f"unknown pace {pace!r}",
               (f"did you mean '{close[0]}'? " if close else "") + f"use one of: {', '.join(PACES)}")
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
            ck.add(raw.value_marks.get(key), f"levels.{key}", f"cannot tell how to say {value!r} in a sentence",
                   f"write one noun with its article, e.g. `{key}: la fiche` or `{key}: le module`")
            continue
        found[key] = Level(noun, gender == "f")
    return Levels(**found)


