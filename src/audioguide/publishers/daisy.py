"""DAISY 2.02 talking book: daisy/ (ncc.html, master.smil, one SMIL per page, content.html, the chapters' MP3s)
and a zip of it, for DAISY players (Victor Reader Stream, Orion), EasyReader and Thorium.

A reader moves by heading level (part, topic, page: h1-h3 in ncc.html) and by sentence (one SMIL `par` per
written sentence, its clip in the chapter's MP3, in a `seq` of its own: the common form, which readers such as
daisy-dtb expect). Each NCC entry links to the `text` element of the par it opens, not to the par: Debian 12's
daisy-player (13.0) finds nothing to play from a par id and runs through the whole book in silence. The
title entry opens a par of its own, the guide's title spoken (a00.mp3, made like the phone's prompts).
Clips are contiguous and cover each MP3 from 0 to its end: a player that jumps from par to par still plays
the chimes and the pauses, and ncc:totalTime is the real length of the audio. Every time is in whole
milliseconds, so the SMIL sums add up exactly.

The audio is the chapters' published MP3 bytes, hard-linked (or copied) under short names: DAISY players
expect plain 8.3-style file names, not the content-addressed ones of audio/.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audioguide.audio import encode_mp3, loudness_gain
from audioguide.exceptions import PublishError
from audioguide.files import atomic_path, digest, explain_os_error, matches, owner_of, update_bytes
from audioguide.publishers import BuildContext, Published, Publisher, end_sentence
from audioguide.publishers import book as talking

log = logging.getLogger(__name__)
FOLDER = "daisy"
CONTENT = "content.html"
TITLE_MP3 = "a00.mp3"
XHTML_DOCTYPE = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
                 '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">')
SMIL_DOCTYPE = '<!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 1.0//EN" "http://www.w3.org/TR/REC-smil/SMIL10.dtd">'


def zip_name(guide_id: str) -> str:
    return f"{guide_id}-daisy.zip"


# --- times ---------------------------------------------------------------------------------------------

def clock(ms: int) -> str:
    """SMIL full clock value, hh:mm:ss.sss (ncc:timeInThisSmil, ncc:totalElapsedTime)."""
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    return f"{h:02d}:{m:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def hms(ms: int) -> str:
    """hh:mm:ss, rounded to the nearest second: the scheme of ncc:totalTime."""
    s = (ms + 500) // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def npt(ms: int) -> str:
    return f"npt={ms // 1000}.{ms % 1000:03d}s"


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


# --- model -----------------------------------------------------------------------------------------------

@dataclass
class Par:
    """One sentence (or heading): its element in content.html and its clip in an MP3, in ms."""

    id: str
    audio: str
    begin: int
    end: int


@dataclass
class Section:
    """One page of the guide: one SMIL file."""

    smil: str
    title: str
    pars: list[Par] = field(default_factory=list)

    @property
    def ms(self) -> int:
        return sum(p.end - p.begin for p in self.pars)


@dataclass
class NccEntry:
    """An ncc.html entry: a part, topic or page heading and the par it opens."""

    level: int
    cls: str
    title: str
    smil: str
    par: str


@dataclass
class DaisyBook:
    sections: list[Section]
    entries: list[NccEntry]
    content: list[str]  # content.html's body lines
    audio: dict[str, Path]  # short name -> published MP3
    total_ms: int
    title_ms: int = 0  # the spoken title's length (TITLE_MP3); 0: none


def _length_ms(ch: talking.Chapter, path: Path) -> int:
    """The chapter MP3's length in whole ms, never past its real end: the manifest's length (mutagen's, read
    when the MP3 was made) is rounded to the ms, maybe up, so one ms less. Reading it again here would parse
    every MP3's tags and cover on each rebuild."""
    if not path.is_file():
        raise PublishError(f"DAISY book: the chapter MP3 {path} is missing.",
                           cause="it was deleted or moved after the build wrote it",
                           fix="build again with --clean")
    return max(0, _ms(ch.duration) - 1)


def _written(b: talking.Block) -> list[talking.Sentence]:
    return b.sentences + [s for item in b.items for s in item] + [s for c in b.children for s in _written(c)]


def daisy_book(result, title_ms: int = 0) -> DaisyBook:
    """The DAISY structure of the talking book (publishers/book.py): its text, and its pars over each MP3.
    title_ms: the length of the spoken title (TITLE_MP3, in the book's folder), which the book opens with."""
    tb = talking.Book.from_build(result)
    g = result.manifest["guide"]
    sections: list[Section] = []
    entries: list[NccEntry] = []
    content = [f'<h1 class="title" id="title">{html.escape(g["title"], quote=False)}</h1>']
    audio: dict[str, Path] = {}
    total = title_ms
    for ch in tb.chapters:
        name = f"a{ch.number:02d}.mp3"
        audio[name] = result.out_dir / ch.mp3
        length = _length_ms(ch, audio[name])
        total += length
        content += talking.chapter_body(ch)
        secs = [Section(f"s{len(sections) + i + 1:03d}.smil", p.title) for i, p in enumerate(ch.pages)]
        pars, target = _chapter_pars(ch, name, secs, length)
        kept = [s for s in secs if s.pars]
        for k, sec in enumerate(kept, len(sections) + 1):
            sec.smil = f"s{k:03d}.smil"
        entries += _ncc_entries(ch, g, secs, pars[0], target)
        sections += kept
    # The title opens the book with a par of its own: linked to the first topic's, a player played the
    # welcome twice from the first item, and none said the book's title.
    if title_ms:
        sections[0].pars.insert(0, Par("title", TITLE_MP3, 0, title_ms))
    entries.insert(0, NccEntry(1, "title", g["title"], entries[0].smil, sections[0].pars[0].id))
    return DaisyBook(sections, entries, content, audio, total, title_ms)


_Placed = tuple[Par, Section]


def _audio_order(ch: talking.Chapter) -> list[tuple[int, talking.Heading | talking.Sentence]]:
    """(page index, heading or sentence) of a chapter, in the order they are said."""
    order: list[tuple[int, talking.Heading | talking.Sentence]] = [(0, h) for h in (ch.part_heading, ch.heading)
                                                                    if h]
    for i, page in enumerate(ch.pages):
        order += [(i, page.heading)] + [(i, s) for b in page.blocks for s in _written(b)]
    if ch.end is not None:
        order.append((len(ch.pages) - 1, ch.end))
    return order


def _chapter_pars(ch: talking.Chapter, name: str, secs: list[Section],
                  length: int) -> tuple[list[_Placed], dict[str, _Placed | None]]:
    """One par per heading or sentence with a clip, in audio order, each in its page's section; and, by heading
    id, the par its NCC entry opens. The first starts at 0 (the chime), a page's first at the page's start (its
    tick); each ends where the next begins, the last at the end of the MP3. The end cue has its own par, from
    the end of the last sentence's speech (book.py)."""
    pars: list[_Placed] = []
    target: dict[str, _Placed | None] = {}
    for i, item in _audio_order(ch):
        at = None
        if item.clip is not None:
            begin = 0 if not pars else _ms(item.clip.start)
            if i and not secs[i].pars:
                begin = min(begin, _ms(ch.pages[i].start))
            if not pars or begin > pars[-1][0].begin:
                at = (Par(item.id, name, begin, 0), secs[i])
                secs[i].pars.append(at[0])
                pars.append(at)
        if isinstance(item, talking.Heading):
            # A heading the frame did not name on its own opens the par that says it.
            target[item.id] = at or (pars[-1] if pars else None)
    if not pars:
        raise PublishError(f"DAISY book: chapter {ch.id} has no timed sentence.",
                           cause="the build's cue timings are missing", fix="build again with --clean")
    for (a, _), (b, _) in zip(pars, pars[1:]):
        a.end = b.begin
    pars[-1][0].end = length
    return pars, target


def _ncc_entries(ch: talking.Chapter, g: dict, secs: list[Section], first: _Placed,
                 target: dict[str, _Placed | None]) -> list[NccEntry]:
    """The chapter's part, topic and page headings in ncc.html, each opening its par."""
    entries = []
    for h, cls, own in ((ch.part_heading, "part", None),
                        (ch.heading, "introduction" if ch.id == g.get("intro") else "chapter", None),
                        *((p.heading, "section", sec) for p, sec in zip(ch.pages, secs))):
        if h is not None:
            par, sec = target.get(h.id) or first
            if own is not None and own is not sec and own.pars:
                par, sec = own.pars[0], own  # a page's entry always opens the page's own SMIL file
            entries.append(NccEntry(h.level, cls, h.text, sec.smil, par.id))
    return entries


# --- documents ---------------------------------------------------------------------------------------------

def _esc(text: str) -> str:
    """For attribute values: quotes escaped, apostrophes left as they are (no &#x27; for simple players)."""
    return html.escape(text, quote=False).replace('"', "&quot;")


def _meta(name: str, content, scheme: str = "") -> str:
    scheme = f' scheme="{scheme}"' if scheme else ""
    return f'<meta name="{name}" content="{_esc(str(content))}"{scheme} />'


def _identifier(guide: dict) -> str:
    return f"urn:audioguide:{guide['id']}"


def _language(guide: dict) -> str:
    return (guide.get("language") or "fr").split("-")[0].lower()


def _xhtml(lang: str, title: str, head: list[str], body: list[str]) -> bytes:
    lines = ['<?xml version="1.0" encoding="utf-8"?>', XHTML_DOCTYPE,
             f'<html xmlns="http://www.w3.org/1999/xhtml" lang="{lang}" xml:lang="{lang}">', "<head>",
             '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />',
             f"<title>{_esc(title)}</title>", *head, "</head>", "<body>", *body, "</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


def content_html(manifest: Mapping[str, Any], b: DaisyBook) -> bytes:
    g = manifest["guide"]
    head = [_meta("dc:title", g["title"]), _meta("dc:identifier", _identifier(g)),
            _meta("dc:format", "Daisy 2.02"), _meta("ncc:generator", manifest["generator"])]
    return _xhtml(_language(g), g["title"], head, b.content)


def smil(manifest: Mapping[str, Any], sec: Section, elapsed_ms: int) -> bytes:
    g = manifest["guide"]
    lines = ['<?xml version="1.0" encoding="utf-8"?>', SMIL_DOCTYPE, "<smil>", "<head>",
             _meta("dc:format", "Daisy 2.02"), _meta("dc:title", g["title"]),
             _meta("dc:identifier", _identifier(g)), _meta("ncc:generator", manifest["generator"]),
             _meta("title", sec.title),
             _meta("ncc:totalElapsedTime", clock(elapsed_ms)), _meta("ncc:timeInThisSmil", clock(sec.ms)),
             '<layout><region id="txtView" /></layout>', "</head>", "<body>",
             f'<seq dur="{sec.ms // 1000}.{sec.ms % 1000:03d}s">']
    for p in sec.pars:
        lines += [f'<par endsync="last" id="{p.id}">',
                  f'<text src="{CONTENT}#{p.id}" id="{text_id(p.id)}" />',
                  f'<seq><audio src="{p.audio}" clip-begin="{npt(p.begin)}" clip-end="{npt(p.end)}" '
                  f'id="{p.id}-a" /></seq>',
                  "</par>"]
    lines += ["</seq>", "</body>", "</smil>", ""]
    return "\n".join(lines).encode("utf-8")


def text_id(par_id: str) -> str:
    """The id of a par's text element: what the NCC links to."""
    return f"{par_id}-t"


def master_smil(manifest: Mapping[str, Any], b: DaisyBook) -> bytes:
    g = manifest["guide"]
    lines = ['<?xml version="1.0" encoding="utf-8"?>', SMIL_DOCTYPE, "<smil>", "<head>",
             _meta("dc:format", "Daisy 2.02"), _meta("dc:title", g["title"]),
             _meta("dc:identifier", _identifier(g)), _meta("ncc:generator", manifest["generator"]),
             _meta("ncc:timeInThisSmil", clock(sum(s.ms for s in b.sections))),
             '<layout><region id="txtView" /></layout>', "</head>", "<body>"]
    lines += [f'<ref src="{s.smil}" title="{_esc(s.title)}" id="m{Path(s.smil).stem}" />' for s in b.sections]
    lines += ["</body>", "</smil>", ""]
    return "\n".join(lines).encode("utf-8")


def ncc_html(manifest: Mapping[str, Any], b: DaisyBook, files: int) -> bytes:
    """files: how many files the book has, ncc.html included (ncc:files)."""
    g = manifest["guide"]
    engine = manifest.get("engine", {})
    narrator = " ".join(str(x) for x in (engine.get("name"), engine.get("voice")) if x) or "synthèse vocale"
    date = g["date"]
    head = [
        _meta("dc:title", g["title"]),
        _meta("dc:creator", g.get("author") or g["publisher"]),
        _meta("dc:date", date, "yyyy-mm-dd"),
        _meta("dc:format", "Daisy 2.02"),
        _meta("dc:identifier", _identifier(g)),
        _meta("dc:language", _language(g), "ISO 639"),
        _meta("dc:publisher", g["publisher"]),
        *([_meta("dc:description", g["description"])] if g.get("description") else []),
        *([_meta("dc:rights", g["rights"])] if g.get("rights") else []),
        *([_meta("dc:source", g["source"])] if g.get("source") else []),
        _meta("ncc:charset", "utf-8"),
        _meta("ncc:generator", manifest["generator"]),
        _meta("ncc:producer", g["publisher"]),
        _meta("ncc:producedDate", date, "yyyy-mm-dd"),
        _meta("ncc:narrator", f"voix de synthèse ({narrator})"),
        _meta("ncc:multimediaType", "audioFullText"),
        _meta("ncc:setInfo", "1 of 1"),
        _meta("ncc:depth", max(h.level for h in b.entries)),
        _meta("ncc:tocItems", len(b.entries)),
        _meta("ncc:totalTime", hms(b.total_ms), "hh:mm:ss"),
        _meta("ncc:files", files),
        # The guide's pages are sections (h3), not print pages: a DAISY page count is of print pages.
        _meta("ncc:pageFront", 0), _meta("ncc:pageNormal", 0), _meta("ncc:pageSpecial", 0),
        _meta("ncc:maxPageNormal", 0),
        _meta("ncc:footnotes", 0), _meta("ncc:prodNotes", 0), _meta("ncc:sidebars", 0),
    ]
    body = [f'<h{h.level} class="{h.cls}" id="n{i:04d}"><a href="{h.smil}#{text_id(h.par)}">{_esc(h.title)}</a>'
            f'</h{h.level}>' for i, h in enumerate(b.entries, 1)]
    return _xhtml(_language(g), g["title"], head, body)


def documents(manifest: Mapping[str, Any], b: DaisyBook) -> dict[str, bytes]:
    """Every text file of the book, by name."""
    docs = {CONTENT: content_html(manifest, b), "master.smil": master_smil(manifest, b)}
    elapsed = 0
    for sec in b.sections:
        docs[sec.smil] = smil(manifest, sec, elapsed)
        elapsed += sec.ms
    docs["ncc.html"] = ncc_html(manifest, b, len(docs) + 1 + len(b.audio) + (1 if b.title_ms else 0))
    return talking.well_formed(docs, "DAISY")


# --- files ---------------------------------------------------------------------------------------------------

def _place_audio(src: Path, dst: Path, sha256: str) -> None:
    """The published MP3's bytes under a short name: a hard link (no second copy on disk) or, where the
    file system has none, a copy. Recorded like every other written file."""
    if matches(dst, sha256):
        return
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def _zip_time(manifest: Mapping[str, Any]) -> tuple:
    y, m, d = (int(x) for x in manifest["guide"]["date"].split("-"))
    return (min(max(y, 1980), 2107), m, d, 0, 0, 0)


def write_zip(path: Path, folder: Path, names: list[str], when: tuple) -> None:
    """Same bytes for the same files: fixed order, dates, permissions; MP3s stored, text deflated."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=when)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".mp3") else zipfile.ZIP_DEFLATED
            with open(folder / name, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def _remove_stale(folder: Path, keep: set[str]) -> None:
    """Files an earlier build put in daisy/ that this one does not: gone now, or the folder (and ncc:files)
    would disagree with the zip. Only files a build recorded as this guide's are removed."""
    owner = owner_of(folder / "ncc.html")
    if owner is None or not folder.is_dir():
        return
    for p in sorted(folder.iterdir()):
        if p.name not in keep and p.is_file() and owner.ours(owner.rel(p)):
            try:
                p.unlink()
            except OSError as exc:
                raise explain_os_error(exc, p) from None


def spoken_title(result: BuildContext, folder: Path) -> dict:
    """daisy/a00.mp3: the guide's title, said by the guide's voice through the same path as the phone's
    prompts (the build's Speaker) and encoded like the chapters. Returns its key, sha256 and length in ms;
    kept from the last build when its key and bytes are unchanged."""
    from mutagen.mp3 import MP3

    speaker, settings = result.speaker, result.settings
    clips = speaker.prompt_clips(end_sentence(result.manifest["guide"]["title"]))
    key = hashlib.sha256(json.dumps(["daisy-title", [k for _, k, _ in clips], [p for *_, p in clips],
                                     settings.sample_rate, settings.bitrate_kbps, settings.loudness_lufs,
                                     settings.true_peak_db]).encode()).hexdigest()
    path = folder / TITLE_MP3
    old = (result.previous_entries().get("daisy") or {}).get("title") or {}
    if old.get("key") == key and isinstance(old.get("ms"), int) and matches(path, old.get("sha256", "")):
        return old
    with speaker.speak(clips) as wav:
        with atomic_path(path) as mp3:
            encode_mp3(wav, mp3, settings, loudness_gain(wav, settings))
    # Never past the real end, as for the chapters (_length_ms).
    return {"key": key, "sha256": digest(path), "ms": max(0, _ms(MP3(path).info.length) - 1)}  # type: ignore[attr-defined]


class DaisyPublisher(Publisher):
    name = "daisy"
    folders = (FOLDER,)

    def publish(self, result: BuildContext) -> Published:
        manifest, out = result.manifest, result.out_dir
        folder = out / FOLDER
        title = spoken_title(result, folder)
        b = daisy_book(result, title["ms"])
        docs = documents(manifest, b)
        shas = {name: hashlib.sha256(data).hexdigest() for name, data in docs.items()}
        shas[TITLE_MP3] = title["sha256"]
        by_mp3 = {c["mp3"]: c["sha256"] for c in manifest["chapters"]}
        for name, src in b.audio.items():
            shas[name] = by_mp3[src.relative_to(out).as_posix()]
        for name, data in docs.items():
            update_bytes(folder / name, data)
        for name, src in b.audio.items():
            _place_audio(src, folder / name, shas[name])
        _remove_stale(folder, set(shas))
        # ncc.html first: a player or a person opening the zip finds the book's entry point at the top.
        names = ["ncc.html"] + sorted(n for n in shas if n != "ncc.html")
        key = hashlib.sha256("".join(f"{n} {shas[n]}\n" for n in names).encode()).hexdigest()
        zpath = out / zip_name(manifest["guide"]["id"])
        old = result.previous_entries()
        old_zip = (old.get("downloads") or {}).get("daisy") or {}
        if not ((old.get("daisy") or {}).get("key") == key and matches(zpath, old_zip.get("sha256", ""))):
            write_zip(zpath, folder, names, _zip_time(manifest))
        daisy = {
            "ncc": f"{FOLDER}/ncc.html", "duration": round(b.total_ms / 1000, 3), "key": key, "title": title,
            "files": [{"path": f"{FOLDER}/{n}", "bytes": (folder / n).stat().st_size, "sha256": shas[n]}
                      for n in names],
        }
        # Beside the EPUB: what the feed and the kiosk offer for download.
        download = {"path": zpath.name, "bytes": zpath.stat().st_size, "sha256": digest(zpath),
                    "media_type": "application/zip"}
        return Published([folder / n for n in names] + [zpath], {"daisy": daisy, "downloads": {"daisy": download}})
