"""Hear before building: the table of contents, and one page or chapter synthesised through the clip cache."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from audioguide.config import BuildSettings
from audioguide.exceptions import AudioguideError
from audioguide.guide import Chapter, Guide
from audioguide.i18n import _
from audioguide.narration.script import PageScript


def toc_lines(guide: Guide) -> list[str]:
    """One line per part, chapter and page: level, the id to use with `listen`, and the title."""
    pages = sum(len(c.pages) for c in guide.chapters)
    out = [_("{title} ({id}): {chapters} chapters, {pages} pages").format(
        title=guide.title, id=guide.id, chapters=len(guide.chapters), pages=pages)]
    part_word, chapter_word, page_word = _("part").ljust(8), _("chapter").ljust(8), _("page").ljust(6)

    def chapter(ch: Chapter, indent: str) -> None:
        out.append(f"{indent}{chapter_word} {ch.id:<28} {ch.title}")
        for p in ch.pages:
            out.append(f"{indent}  {page_word} {ch.id + '/' + p.id:<28} {p.title}")

    if guide.intro:
        chapter(guide.intro, "  ")
    for part in guide.parts:
        out.append(f"  {part_word} {part.id:<28} {part.title}")
        for ch in part.chapters:
            chapter(ch, "    ")
    for ch in getattr(guide, "top_chapters", []):  # two-level guides, once the model has them
        chapter(ch, "  ")
    return out


def scripts_for(guide: Guide, ref: str, writer) -> list[PageScript]:
    """The page (PAGE, CHAPTER/PAGE) or whole chapter (CHAPTER) named by `ref`."""
    try:
        ch = guide.chapter(ref)
        return writer.chapter(ch)
    except KeyError:
        pass
    try:
        ch, page = guide.find_page(ref)
    except KeyError:
        pages = [f"{c.id}/{p.id}" for c in guide.chapters for p in c.pages]
        more = _("{n} pages; all in `audioguide toc`").format(n=len(pages))
        shown = ", ".join(pages[:12]) + (f" … ({more})" if len(pages) > 12 else "")
        raise AudioguideError(_("No page or chapter {ref!r} in the guide.").format(ref=ref),
                              fix=_("chapters: {chapters}; pages: {pages}").format(
                                  chapters=", ".join(c.id for c in guide.chapters), pages=shown)) from None
    return [writer.page(ch, page, ch.pages.index(page) + 1)]


def render(guide: Guide, ref: str, settings: BuildSettings, out: Path) -> Path:
    """Synthesise the page or chapter `ref` into `out` (.wav, or .mp3 at the build's loudness)."""
    from audioguide.audio import encode_mp3, loudness_gain
    from audioguide.build import make_speaker
    from audioguide.files import atomic_path

    if out.suffix.lower() not in (".wav", ".mp3"):
        raise AudioguideError(_("Cannot write {name}: the file must end in .mp3 or .wav.").format(name=out.name),
                              fix=_("e.g. --out page.mp3"))
    speaker = make_speaker(guide, settings)
    scripts = scripts_for(guide, ref, speaker.writer)
    clips = speaker.segment_clips([s for page in scripts for s in page.segments])
    with tempfile.TemporaryDirectory(prefix="audioguide-listen-") as tmp:
        wav = Path(tmp) / "listen.wav"
        speaker.render(clips, wav)
        with atomic_path(out) as part:
            if out.suffix.lower() == ".mp3":
                encode_mp3(wav, part, settings, loudness_gain(wav, settings))
            else:
                shutil.copyfile(wav, part)
    return out


def play(path: Path) -> None:
    from audioguide.phone.simulator import player

    cmd = player()
    if cmd is None:
        raise AudioguideError(_("No audio player found to play the page."),
                              cause=_("neither ffplay nor aplay is installed"),
                              fix=_("install ffmpeg (apt-get install ffmpeg), or write the page to a file with --out "
                                    "page.mp3 and open it"))
    subprocess.run([*cmd, str(path)], check=False)


NEW_GUIDE = """\
---
# {c_details}
title: {title}
publisher: Le nom de votre association
description: Deux ou trois phrases qui disent de quoi parle ce guide.
# date: {date}   ({c_date})
# {c_lexicon}
lexicon:
  ARS: spell
# {c_depth}
depth: 2
---

# Bienvenue

## Pourquoi ce guide

Un paragraphe est du texte séparé par une ligne vide. Le **gras** et l'*italique* sont lus sans symbole.

- Une liste se lit avec une pause
- entre chaque point.

> **Attention :** un encadré commence par « Attention : », « Bon à savoir : », « À noter : »,
> « Exemple : » ou « Important : » en gras, après un chevron.

[Le site de l'Assurance maladie](https://www.ameli.fr/)

# Se faire aider {{#aide}}

Une phrase juste sous le titre d'un chapitre le décrit (facultatif).

## Qui appeler

Une page a un titre (##) et du texte. Son identifiant vient du titre : qui-appeler.
Pour l'écouter avant de tout construire : audioguide listen {folder} qui-appeler
"""


def new_guide(folder: Path) -> Path:
    """Write FOLDER/guide.md, a commented example to start from; never over an existing guide."""
    import datetime as dt

    from audioguide.guide.load import GUIDE_FILES

    existing = [folder / n for n in GUIDE_FILES if (folder / n).exists()]
    if existing:
        raise AudioguideError(_("{file} already exists.").format(file=existing[0]),
                              fix=_("choose a new folder for the new guide"))
    title = folder.name.replace("-", " ").replace("_", " ").strip().capitalize() or "Mon guide"
    target = folder / "guide.md"
    from audioguide.files import atomic_path

    text = NEW_GUIDE.format(
        title=title, date=dt.date.today().isoformat(), folder=folder,
        c_details=_("The guide's details. Keys and defaults: the README's \"Every key\" table, or "
                    "`audioguide schema`."),
        c_date=_("optional: without it, the feed uses the day this file last changed"),
        c_lexicon=_("Words the voice says badly: WORD: how to say it, or `spell` to spell an acronym letter by "
                    "letter."),
        c_depth=_("2 levels: `#` is a chapter, `##` a page. For 3 levels (parts), write depth: 3 and use #, ## "
                  "and ###."))
    from audioguide.guide import GUIDE_KEYS

    if GUIDE_KEYS["parts"][1]:  # a guide model that still requires parts: the same example in one part
        front, _sep, body = text.partition("\n---\n\n")
        body = "\n".join("#" + ln if ln.startswith("#") else ln for ln in body.split("\n"))
        text = f"{front.replace('depth: 2', 'depth: 3')}\n---\n\n# {title}\n\n{body}"
    with atomic_path(target) as part:
        part.write_text(text, encoding="utf-8")
    return target
