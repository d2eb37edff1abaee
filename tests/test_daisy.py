"""DAISY 2.02 talking book, checked against the rules of the DAISY 2.02 specification (www.daisy.org/z3986/
specifications/daisy_202.html and its XHTML element usage requirements) on real builds: the mini fixture,
the two-level fixture and the e-santé guide, with real espeak-ng and ffmpeg, durations read with ffprobe.

`daisy_problems` is the checker: it returns every rule a DAISY 2.02 folder breaks. The mutation tests below
break one rule at a time in a copy of a built book and check the checker names it.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from book_builds import book_build, rebuild, shared
from lxml import etree

from audioguide.build import build
from audioguide.exceptions import PublishError
from audioguide.publishers import daisy

from conftest import DATA, needs_tools, settings_for

pytestmark = [needs_tools, pytest.mark.e2e]

XHTML = "http://www.w3.org/1999/xhtml"
H = {"h": XHTML}
NCC_REQUIRED = ["dc:creator", "dc:date", "dc:format", "dc:identifier", "dc:language", "dc:publisher", "dc:title",
                "ncc:charset", "ncc:depth", "ncc:files", "ncc:footnotes", "ncc:generator", "ncc:maxPageNormal",
                "ncc:multimediaType", "ncc:narrator", "ncc:pageFront", "ncc:pageNormal", "ncc:pageSpecial",
                "ncc:prodNotes", "ncc:setInfo", "ncc:sidebars", "ncc:tocItems", "ncc:totalTime"]
COUNTS = ["ncc:depth", "ncc:files", "ncc:footnotes", "ncc:maxPageNormal", "ncc:pageFront", "ncc:pageNormal",
          "ncc:pageSpecial", "ncc:prodNotes", "ncc:sidebars", "ncc:tocItems"]
MULTIMEDIA_TYPES = {"audioOnly", "audioNcc", "audioPartText", "audioFullText", "textPartAudio", "textNcc"}
NCC_ITEMS = {"h1", "h2", "h3", "h4", "h5", "h6", "span", "div"}
CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$|^(\d+(?:\.\d+)?)(h|min|s|ms)?$")
NPT = re.compile(r"^npt=(\d+(?:\.\d+)?)s$")


# --- reading ----------------------------------------------------------------------------------------------

def seconds(value: str) -> float:
    """A SMIL clock value (hh:mm:ss.sss, mm:ss, 12.5s, 300ms…) in seconds."""
    m = CLOCK.match(value.strip())
    if not m:
        raise ValueError(f"not a SMIL clock value: {value!r}")
    if m.group(3) is not None:
        return int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    return float(m.group(4)) * {"h": 3600, "min": 60, "s": 1, "ms": 0.001, None: 1}[m.group(5)]


@functools.cache
def ffprobe_duration(path: Path, mtime_ns: int) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def real_duration(path: Path) -> float:
    return ffprobe_duration(path, path.stat().st_mtime_ns)


def parse(path: Path):
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


def metas(root, ns: dict | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in root.iterfind(".//h:head/h:meta" if ns else ".//head/meta", ns or {}):
        if m.get("name"):
            out.setdefault(m.get("name"), []).append(m.get("content") or "")
    return out


def local(el) -> str:
    return etree.QName(el).localname


# --- the checker --------------------------------------------------------------------------------------------

def daisy_problems(folder: Path) -> list[str]:
    """Every DAISY 2.02 rule the book in `folder` breaks (an empty list: none)."""
    problems: list[str] = []
    bad = problems.append
    ncc_path = folder / "ncc.html"
    if not ncc_path.is_file():
        return ["ncc.html is missing"]
    try:
        ncc = parse(ncc_path)
    except etree.XMLSyntaxError as exc:
        return [f"ncc.html is not well-formed XML: {exc}"]
    if ncc.docinfo.public_id != "-//W3C//DTD XHTML 1.0 Transitional//EN":
        bad(f"ncc.html: DOCTYPE is {ncc.docinfo.public_id!r}, not XHTML 1.0 Transitional")
    root = ncc.getroot()
    if root.tag != f"{{{XHTML}}}html":
        bad(f"ncc.html: root element {root.tag}, not the XHTML html element")
    meta = metas(root, H)

    # Metadata: every required item once, not empty, well-formed.
    for name in NCC_REQUIRED:
        values = meta.get(name, [])
        if len(values) != 1 or not values[0].strip():
            bad(f"ncc.html: metadata {name} must occur once, not empty (found {values})")
    one = {k: v[0] for k, v in meta.items() if len(v) == 1}
    for name in COUNTS:
        if name in one and not re.fullmatch(r"\d+", one[name]):
            bad(f"ncc.html: {name} must be a whole number, not {one[name]!r}")
    if one.get("dc:format") != "Daisy 2.02":
        bad(f"ncc.html: dc:format must be 'Daisy 2.02', not {one.get('dc:format')!r}")
    if one.get("dc:language") != "fr":
        bad(f"ncc.html: dc:language must be 'fr', not {one.get('dc:language')!r}")
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", one.get("dc:date", "")):
        bad(f"ncc.html: dc:date must be yyyy-mm-dd, not {one.get('dc:date')!r}")
    if one.get("ncc:multimediaType") not in MULTIMEDIA_TYPES:
        bad(f"ncc.html: ncc:multimediaType {one.get('ncc:multimediaType')!r} is not a DAISY 2.02 type")
    if one.get("ncc:multimediaType") != "audioFullText":
        bad("ncc.html: ncc:multimediaType must be audioFullText (full text and full audio)")
    if not re.fullmatch(r"\d+ of \d+", one.get("ncc:setInfo", "")):
        bad(f"ncc.html: ncc:setInfo must read 'n of m', not {one.get('ncc:setInfo')!r}")
    if one.get("ncc:charset", "").lower() != (ncc.docinfo.encoding or "").lower():
        bad(f"ncc.html: ncc:charset {one.get('ncc:charset')!r} is not the file's encoding {ncc.docinfo.encoding!r}")
    if not re.fullmatch(r"\d{2,}:\d{2}:\d{2}(\.\d+)?", one.get("ncc:totalTime", "")):
        bad(f"ncc.html: ncc:totalTime must be hh:mm:ss, not {one.get('ncc:totalTime')!r}")
    title = root.findtext("h:head/h:title", namespaces=H)
    if title != one.get("dc:title"):
        bad(f"ncc.html: title {title!r} differs from dc:title {one.get('dc:title')!r}")

    # Body: only NCC items, each with an id and one link; h1 class="title" first; no heading level skipped.
    body = root.find("h:body", H)
    items = list(body) if body is not None else []
    ids: set[str] = set()
    levels: list[int] = []
    links: list[tuple[str, str, str]] = []  # (ncc id, smil file, fragment)
    for el in items:
        name = local(el)
        if name not in NCC_ITEMS:
            bad(f"ncc.html: <{name}> is not an NCC element (h1-h6, span, div)")
            continue
        eid = el.get("id")
        if not eid or eid in ids:
            bad(f"ncc.html: <{name}> without a unique id ({eid!r})")
        ids.add(eid)
        anchors = el.findall("h:a", H)
        if len(anchors) != 1 or not (anchors[0].get("href") or "").strip():
            bad(f"ncc.html: {eid}: must hold exactly one <a href>")
            continue
        href = anchors[0].get("href")
        file, _, frag = href.partition("#")
        if not file.endswith(".smil") or not frag:
            bad(f"ncc.html: {eid}: link {href!r} must point to an element in a SMIL file")
        links.append((eid, file, frag))
        if name[0] == "h":
            level = int(name[1])
            if not levels and (level != 1 or el.get("class") != "title"):
                bad('ncc.html: the first heading must be <h1 class="title">')
            if levels and level > levels[-1] + 1:
                bad(f"ncc.html: {eid}: h{level} after h{levels[-1]} skips a level")
            levels.append(level)
    if not levels:
        bad("ncc.html: no headings")
    if one.get("ncc:depth", "").isdigit() and levels and int(one["ncc:depth"]) != max(levels):
        bad(f"ncc.html: ncc:depth {one['ncc:depth']} but the deepest heading is h{max(levels)}")
    if one.get("ncc:tocItems", "").isdigit() and int(one["ncc:tocItems"]) != len(items):
        bad(f"ncc.html: ncc:tocItems {one['ncc:tocItems']} but the NCC holds {len(items)} items")
    for kind, key in (("page-front", "ncc:pageFront"), ("page-normal", "ncc:pageNormal"),
                      ("page-special", "ncc:pageSpecial")):
        n = sum(1 for el in items if local(el) == "span" and el.get("class") == kind)
        if one.get(key, "").isdigit() and int(one[key]) != n:
            bad(f"ncc.html: {key} {one[key]} but {n} <span class=\"{kind}\">")

    # SMIL files, in the order the master and the NCC give.
    smil_order: list[str] = []
    for _, file, _ in links:
        if file not in smil_order:
            smil_order.append(file)
    smils: dict[str, dict] = {}
    contents: dict[str, set[str]] = {}
    durations: dict[str, float] = {}
    referenced_audio: set[str] = set()
    total_smil = 0.0
    for file in smil_order:
        info = smils[file] = {"ids": {}, "texts": set(), "order": [], "time": 0.0}
        path = folder / file
        if not path.is_file():
            bad(f"{file}: linked from ncc.html but missing")
            continue
        try:
            doc = parse(path)
        except etree.XMLSyntaxError as exc:
            bad(f"{file}: not well-formed XML: {exc}")
            continue
        if doc.docinfo.public_id != "-//W3C//DTD SMIL 1.0//EN":
            bad(f"{file}: DOCTYPE is {doc.docinfo.public_id!r}, not SMIL 1.0")
        sm = metas(doc.getroot())
        if sm.get("dc:format") != ["Daisy 2.02"]:
            bad(f"{file}: dc:format must be 'Daisy 2.02' (found {sm.get('dc:format')})")
        seq = doc.find("body/seq")
        if seq is None:
            bad(f"{file}: no body/seq")
            continue
        clips_total = 0.0
        for par in seq:
            if local(par) != "par":
                bad(f"{file}: <{local(par)}> in the main seq; DAISY 2.02 wants par elements")
                continue
            info["order"].append(par.get("id"))
            if par.get("id"):
                info["ids"][par.get("id")] = par.get("id")
            texts = par.findall("text")
            if len(texts) != 1:
                bad(f"{file}#{par.get('id')}: a par must hold one text element, not {len(texts)}")
            for t in texts:
                if t.get("id"):
                    info["ids"][t.get("id")] = par.get("id")
                    info["texts"].add(t.get("id"))
                src, _, frag = (t.get("src") or "").partition("#")
                if src not in contents:
                    contents[src] = _content_ids(folder / src, problems) if src else set()
                if frag not in contents[src]:
                    bad(f"{file}#{par.get('id')}: text src {t.get('src')!r} does not resolve to an id")
            audios = par.findall("audio") + par.findall("seq/audio")
            if par.findall("audio"):
                bad(f"{file}#{par.get('id')}: audio directly in the par; readers such as daisy-dtb find no clip "
                    "there (the common form is par/seq/audio)")
            if not audios:
                bad(f"{file}#{par.get('id')}: a par without audio in an audioFullText book")
            for a in audios:
                name = a.get("src") or ""
                mp3 = folder / name
                if not mp3.is_file():
                    bad(f"{file}#{par.get('id')}: audio {name!r} is missing")
                    continue
                referenced_audio.add(name)
                if name not in durations:
                    durations[name] = real_duration(mp3)
                begin, end = (NPT.match(a.get(k) or "") for k in ("clip-begin", "clip-end"))
                if not (begin and end):
                    bad(f"{file}#{par.get('id')}: clip-begin/clip-end must be npt=…s values")
                    continue
                b, e = float(begin.group(1)), float(end.group(1))
                if not b < e:
                    bad(f"{file}#{par.get('id')}: clip-begin {b} is not before clip-end {e}")
                if e > durations[name] + 0.0005:  # npt values are written to the ms
                    bad(f"{file}#{par.get('id')}: clip-end {e} s is after the end of {name} "
                        f"({durations[name]:.3f} s by ffprobe)")
                clips_total += e - b
        stated = sm.get("ncc:timeInThisSmil", [""])[0]
        try:
            in_smil = seconds(stated)
        except ValueError:
            bad(f"{file}: ncc:timeInThisSmil {stated!r} is not a clock value")
            in_smil = clips_total
        if abs(in_smil - clips_total) > 0.002:
            bad(f"{file}: ncc:timeInThisSmil {stated} but its clips last {clips_total:.3f} s")
        if seq.get("dur") and abs(seconds(seq.get("dur")) - in_smil) > 0.002:
            bad(f"{file}: seq dur {seq.get('dur')} differs from ncc:timeInThisSmil {stated}")
        elapsed = sm.get("ncc:totalElapsedTime", [""])[0]
        try:
            if abs(seconds(elapsed) - total_smil) > 0.002:
                bad(f"{file}: ncc:totalElapsedTime {elapsed} but the SMIL files before it last {total_smil:.3f} s")
        except ValueError:
            bad(f"{file}: ncc:totalElapsedTime {elapsed!r} is not a clock value")
        info["time"] = in_smil
        total_smil += in_smil

    # Every NCC link resolves to a par's text element, in reading order; the title to a par of its own (a part
    # and its first topic may share the frame's par when it could not be cut one sentence per level).
    last = (-1, -1)
    opened: dict[tuple[str, str], str] = {}
    for eid, file, frag in links:
        info = smils.get(file)
        if info is None or frag not in info["ids"]:
            bad(f"ncc.html: {eid} links to {file}#{frag}, which is no par or text there")
            continue
        if frag not in info["texts"]:
            bad(f"ncc.html: {eid} links to the par {file}#{frag}, not to its text element: Debian 12's "
                "daisy-player (13.0) then plays nothing and runs to the end of the book")
        par = (file, info["ids"][frag])
        if opened.get(par) == links[0][0]:
            bad(f"ncc.html: {eid} opens the same par as the title entry {links[0][0]} ({file}#{par[1]})")
        opened.setdefault(par, eid)
        at = (smil_order.index(file), info["order"].index(info["ids"][frag]))
        if at < last:
            bad(f"ncc.html: {eid} points back in the book ({file}#{frag})")
        last = at

    # master.smil lists the SMIL files in order, and the total time.
    master = folder / "master.smil"
    if not master.is_file():
        bad("master.smil is missing")
    else:
        m = parse(master)
        refs = [r.get("src") for r in m.iterfind("body/ref")]
        if refs != smil_order:
            bad(f"master.smil: refs {refs} are not the SMIL files of the NCC in order {smil_order}")
        mt = metas(m.getroot()).get("ncc:timeInThisSmil", ["x"])[0]
        if not CLOCK.match(mt) or abs(seconds(mt) - total_smil) > 0.002:
            bad(f"master.smil: ncc:timeInThisSmil {mt} but the SMIL files last {total_smil:.3f} s")

    # ncc:totalTime is the audio's real length; every file belongs to the book and is counted.
    real_total = sum(real_duration(p) for p in folder.glob("*.mp3"))
    if one.get("ncc:totalTime") and CLOCK.match(one["ncc:totalTime"]):
        if abs(seconds(one["ncc:totalTime"]) - real_total) > 0.5 + 0.001 * len(durations):
            bad(f"ncc.html: ncc:totalTime {one['ncc:totalTime']} but the MP3s last {real_total:.3f} s (ffprobe)")
    if abs(total_smil - real_total) > 0.5:
        bad(f"the SMIL files play {total_smil:.3f} s of the {real_total:.3f} s of audio")
    unused = sorted(p.name for p in folder.glob("*.mp3") if p.name not in referenced_audio)
    if unused:
        bad(f"audio files no SMIL plays: {unused}")
    on_disk = [p for p in folder.iterdir() if p.is_file()]
    if one.get("ncc:files", "").isdigit() and int(one["ncc:files"]) != len(on_disk):
        bad(f"ncc.html: ncc:files {one['ncc:files']} but the book has {len(on_disk)} files")
    problems += dtd_problems(folder)
    return problems


DTDS = Path("/usr/share/xml/w3c-sgml-lib/schema/dtd")
"""The W3C's own DTDs, from Debian's w3c-sgml-lib (script/bootstrap --test installs it): DAISY 2.02 text
documents are XHTML 1.0 Transitional, its SMIL files SMIL 1.0; read locally, never from w3.org."""


@functools.cache
def _dtd(name: str) -> etree.DTD:
    path = DTDS / {"xhtml": "REC-xhtml1-20020801/xhtml1-transitional.dtd", "smil": "REC-smil-19980615/smil10.dtd"}[name]
    assert path.is_file(), f"{path} is missing: script/bootstrap --test installs Debian's w3c-sgml-lib"
    return etree.DTD(str(path))


def dtd_problems(folder: Path) -> list[str]:
    """Each element or attribute of the book's XHTML and SMIL files that their DTD does not allow."""
    out = []
    for path in sorted([*folder.glob("*.html"), *folder.glob("*.smil")]):
        dtd = _dtd("smil" if path.suffix == ".smil" else "xhtml")
        if not dtd.validate(parse(path)):
            out += [f"{path.name}: line {e.line}: {e.message} (DTD)" for e in dtd.error_log]
    return out


def _content_ids(path: Path, problems: list[str]) -> set[str]:
    """The ids of a text content document (XHTML 1.0, headings in order, h1 class="title" first)."""
    if not path.is_file():
        problems.append(f"{path.name}: text content document is missing")
        return set()
    try:
        doc = parse(path)
    except etree.XMLSyntaxError as exc:
        problems.append(f"{path.name}: not well-formed XML: {exc}")
        return set()
    if not (doc.docinfo.public_id or "").startswith("-//W3C//DTD XHTML 1.0"):
        problems.append(f"{path.name}: DOCTYPE is {doc.docinfo.public_id!r}, not XHTML 1.0")
    root = doc.getroot()
    if root.get("{http://www.w3.org/XML/1998/namespace}lang") != "fr" or root.get("lang") != "fr":
        problems.append(f"{path.name}: lang and xml:lang must be 'fr'")
    ids = [el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")]
    if len(ids) != len(set(ids)):
        problems.append(f"{path.name}: duplicate ids")
    heads = [el for el in root.iter() if isinstance(el.tag, str) and re.fullmatch(r"h[1-6]", local(el))]
    if not heads or local(heads[0]) != "h1" or heads[0].get("class") != "title":
        problems.append(f'{path.name}: the first heading must be <h1 class="title">')
    for a, b in zip(heads, heads[1:]):
        if int(local(b)[1]) > int(local(a)[1]) + 1:
            problems.append(f"{path.name}: {local(b)} {b.get('id')} after {local(a)} skips a level")
    return set(ids)


# --- builds -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mini(request, tmp_path_factory):
    """conftest's mini build; under script/mutation, a copy of it whose books the code under test writes."""
    if "MUTANT_UNDER_TEST" not in os.environ:
        return request.getfixturevalue("mini_build")
    return book_build(DATA / "mini", tmp_path_factory.mktemp("daisy-mini"))


@pytest.fixture(scope="module")
def two_level(tmp_path_factory):
    return book_build(DATA / "two-level", tmp_path_factory.mktemp("daisy-two-level"))


def folder_of(result) -> Path:
    return result.out_dir / "daisy"


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("which", ["mini", "two_level", "esante_build"])
def test_the_book_follows_the_daisy_202_rules(which, request):
    result = shared(request, which)
    assert daisy_problems(folder_of(result)) == []


@pytest.mark.parametrize("which", ["mini", "two_level", "esante_build"])
def test_the_zip_holds_the_same_files_and_the_manifest_lists_them(which, request):
    result = shared(request, which)
    folder, m, z = folder_of(result), result.manifest["daisy"], result.manifest["downloads"]["daisy"]
    zpath = result.out_dir / z["path"]
    with zipfile.ZipFile(zpath) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[0] == "ncc.html"
        assert {n: zf.read(n) for n in names} == files_in(folder)
    assert z["media_type"] == "application/zip" and z["path"] == f"{result.guide.id}-daisy.zip"
    for f in m["files"] + [z]:
        data = (result.out_dir / f["path"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f["bytes"], f["sha256"]), f["path"]
    assert sorted(f["path"] for f in m["files"]) == sorted(f"daisy/{n}" for n in files_in(folder))
    written = json.loads((result.out_dir / "manifest.json").read_text("utf-8"))
    assert (written["daisy"], written["downloads"]["daisy"]) == (m, z)


@pytest.mark.parametrize("which", ["mini", "two_level", "esante_build"])
def test_each_mp3_is_the_chapters_published_audio_played_whole(which, request):
    """The book's audio is the published MP3s (no second encode), and its clips cover each from 0 to its end
    with no gap or overlap: a player going from par to par also plays the chimes and pauses."""
    result = shared(request, which)
    folder, out = folder_of(result), result.out_dir
    published = {(out / c["mp3"]).read_bytes() for c in result.manifest["chapters"]}
    mp3s = sorted(p for p in folder.glob("*.mp3") if p.name != daisy.TITLE_MP3)
    assert {p.read_bytes() for p in mp3s} == published and len(mp3s) == len(published)
    clips: dict[str, list[tuple[float, float]]] = {}
    for smil in sorted(folder.glob("s*.smil")):
        for a in parse(smil).iterfind("body/seq/par/seq/audio"):
            clips.setdefault(a.get("src"), []).append(
                tuple(float(NPT.match(a.get(k)).group(1)) for k in ("clip-begin", "clip-end")))
    assert sorted(clips) == sorted([daisy.TITLE_MP3, *(p.name for p in mp3s)])
    for name, spans in clips.items():
        assert spans[0][0] == 0
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), name
        assert 0 <= real_duration(folder / name) - spans[-1][1] < 0.002, name


def test_headings_follow_the_guides_levels(mini, two_level):
    def ncc_headings(result):
        body = parse(folder_of(result) / "ncc.html").getroot().find("h:body", H)
        return [(local(el), el.get("class"), el.findtext("h:a", namespaces=H)) for el in body]

    assert ncc_headings(mini) == [
        ("h1", "title", "Guide d'essai & <test>"), ("h1", "introduction", "Introduction"),
        ("h2", "section", "Bienvenue"), ("h1", "part", "Partie 1 – Santé"), ("h2", "chapter", "Le DMP"),
        ("h3", "section", "Qu'est-ce que c'est ?"), ("h3", "section", "Attention")]
    # Without parts, topics are h1 and their pages h2.
    assert [h[:2] for h in ncc_headings(two_level)] == [
        ("h1", "title"), ("h1", "introduction"), ("h2", "section"), ("h1", "chapter"), ("h2", "section"),
        ("h2", "section"), ("h1", "chapter"), ("h2", "section")]


def test_every_written_sentence_is_in_the_text_with_its_clip(mini):
    """audioFullText: the content document holds the guide as written, each sentence paired with its clip."""
    folder = folder_of(mini)
    text = {el.get("id"): "".join(el.itertext()) for el in parse(folder / "content.html").getroot().iter()
            if isinstance(el.tag, str) and el.get("id")}
    spoken = []
    for smil in sorted(folder.glob("s*.smil")):
        for par in parse(smil).iterfind("body/seq/par"):
            spoken.append(text[par.find("text").get("src").partition("#")[2]])
    assert "Le DMP est un carnet de santé numérique." in spoken  # written, not "Le D.M.P."
    assert "Appelez le 15 en cas d'urgence." in spoken
    assert "Le site de l'Assurance maladie : www.ameli.fr/assure" in spoken
    # The end cue is its own par, after the last sentence, with its own text: a reader's highlight leaves the
    # last sentence while the earcon and "Fin du sujet." play.
    assert spoken[-2:] == ["Le site de l'Assurance maladie : www.ameli.fr/assure",
                           "Fin du sujet. C'est la fin du guide Guide d'essai & <test>. Merci de votre écoute."]
    assert "Fin de l'introduction." in spoken


def test_the_title_entry_opens_its_own_par_which_says_the_title(mini):
    """The NCC's title entry opens a par that plays the guide's title (a00.mp3, the guide's voice), before the
    introduction's own par: no two entries open the same par, and the book starts by saying its title."""
    folder = folder_of(mini)
    body = parse(folder / "ncc.html").getroot().find("h:body", H)
    targets = [el.find("h:a", H).get("href") for el in body]
    assert targets[:2] == ["s001.smil#title-t", "s001.smil#ch.introduction-t"]
    assert targets.count(targets[0]) == 1
    first = parse(folder / "s001.smil").find("body/seq/par")
    assert first.find("text").get("src") == "content.html#title"
    audio = first.find("seq/audio")
    assert audio.get("src") == daisy.TITLE_MP3 and audio.get("clip-begin") == "npt=0.000s"
    length = real_duration(folder / daisy.TITLE_MP3)
    assert 0 <= length - float(NPT.match(audio.get("clip-end")).group(1)) < 0.002
    # What it says: the title's own clips, from the engine's cache, as for the phone's prompts.
    from audioguide.build import make_speaker

    speaker = make_speaker(mini.guide, mini.settings)
    clips = speaker.prompt_clips("Guide d'essai & <test>.")
    assert mini.manifest["daisy"]["title"]["ms"] == int(NPT.match(audio.get("clip-end")).group(1).replace(".", ""))
    speech = sum(real_duration(speaker.cache.path(k)) for _, k, _ in clips)
    assert speech > 0.8 and speech < length < speech + 1.0  # with its lead-in and its pause


def test_a_player_shows_the_book_s_details(mini):
    """What a DAISY player or a library's catalogue reads in the book's heads: the guide's title, author,
    publisher, description, rights, source, narrator and the book's stable identifier; each SMIL file's title."""
    folder = folder_of(mini)
    engine = mini.manifest["engine"]
    ncc = metas(parse(folder / "ncc.html").getroot(), H)
    assert {k: v for k, v in ncc.items() if not k.startswith(("ncc:total", "ncc:files", "ncc:depth", "ncc:toc"))} == {
        "dc:title": ["Guide d'essai & <test>"], "dc:creator": ["Association Test"], "dc:date": ["2024-03-01"],
        "dc:format": ["Daisy 2.02"], "dc:identifier": ["urn:audioguide:mini"], "dc:language": ["fr"],
        "dc:publisher": ["Association Test"],
        "dc:description": ["Un guide minuscule pour vérifier la chaîne complète."], "dc:rights": ["CC BY 4.0"],
        "dc:source": ["Rédigé pour les tests d'audioguide."], "ncc:charset": ["utf-8"],
        "ncc:generator": [mini.manifest["generator"]], "ncc:producer": ["Association Test"],
        "ncc:producedDate": ["2024-03-01"], "ncc:narrator": [f"voix de synthèse ({engine['name']} {engine['voice']})"],
        "ncc:multimediaType": ["audioFullText"], "ncc:setInfo": ["1 of 1"], "ncc:pageFront": ["0"],
        "ncc:pageNormal": ["0"], "ncc:pageSpecial": ["0"], "ncc:maxPageNormal": ["0"], "ncc:footnotes": ["0"],
        "ncc:prodNotes": ["0"], "ncc:sidebars": ["0"]}
    schemes = {m.get("name"): m.get("scheme") for m in parse(folder / "ncc.html").iterfind(".//h:meta", H)}
    assert (schemes["dc:date"], schemes["dc:language"], schemes["ncc:totalTime"], schemes["dc:title"]) == \
        ("yyyy-mm-dd", "ISO 639", "hh:mm:ss", None)
    same = {"dc:title": ["Guide d'essai & <test>"], "dc:identifier": ["urn:audioguide:mini"],
            "dc:format": ["Daisy 2.02"], "ncc:generator": [mini.manifest["generator"]]}
    content = parse(folder / "content.html").getroot()
    assert metas(content, H) == same and content.findtext("h:head/h:title", namespaces=H) == "Guide d'essai & <test>"
    assert content.get("lang") == "fr" == content.get("{http://www.w3.org/XML/1998/namespace}lang")
    assert content.find("h:body/h:h1", H).get("class") == "title"
    titles = []
    for smil in sorted(folder.glob("s*.smil")):
        m = metas(parse(smil).getroot())
        assert {k: m[k] for k in same} == same, smil.name
        titles.append(m["title"][0])
    assert titles == ["Bienvenue", "Qu'est-ce que c'est ?", "Attention"]
    master = parse(folder / "master.smil").getroot()
    assert {k: metas(master)[k] for k in same} == same
    assert [(r.get("src"), r.get("title"), r.get("id")) for r in master.iterfind("body/ref")] == [
        ("s001.smil", "Bienvenue", "ms001"), ("s002.smil", "Qu'est-ce que c'est ?", "ms002"),
        ("s003.smil", "Attention", "ms003")]
    # The build's manifest (read by the kiosk, the feed and the catalogue): where the book starts, how long it
    # plays (every clip of every SMIL file, the spoken title included).
    played = sum(float(NPT.match(a.get("clip-end")).group(1)) - float(NPT.match(a.get("clip-begin")).group(1))
                 for smil in folder.glob("s*.smil") for a in parse(smil).iterfind("body/seq/par/seq/audio"))
    assert mini.manifest["daisy"]["ncc"] == "daisy/ncc.html"
    assert mini.manifest["daisy"]["duration"] == pytest.approx(played, abs=0.001)


def test_two_builds_give_the_same_bytes(mini, tmp_path):
    again = build(DATA / "mini", settings_for(tmp_path, cache_dir=mini.settings.cache_dir))
    assert files_in(folder_of(again)) == files_in(folder_of(mini))
    zname = mini.manifest["downloads"]["daisy"]["path"]
    assert (again.out_dir / zname).read_bytes() == (mini.out_dir / zname).read_bytes()


def test_a_rebuild_without_changes_rewrites_nothing(mini_guide, tmp_path):
    settings = settings_for(tmp_path)
    first = build(mini_guide, settings)
    zpath = first.out_dir / first.manifest["downloads"]["daisy"]["path"]
    before = {p: p.stat().st_mtime_ns for p in [zpath, *folder_of(first).iterdir()]}
    build(mini_guide, settings_for(tmp_path))
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # A page less: its SMIL goes from the folder and the zip, and the book still follows the rules.
    text = (mini_guide / "guide.yaml").read_text("utf-8")
    cut = text[:text.index("          - id: attention")]
    (mini_guide / "guide.yaml").write_text(cut, "utf-8")
    second = build(mini_guide, settings_for(tmp_path))
    assert daisy_problems(folder_of(second)) == []
    assert not (folder_of(second) / "s003.smil").exists()
    with zipfile.ZipFile(second.out_dir / second.manifest["downloads"]["daisy"]["path"]) as zf:
        assert sorted(zf.namelist()) == sorted(files_in(folder_of(second)))


def test_a_missing_chapter_mp3_is_a_clear_error(mini, tmp_path):
    manifest = copy.deepcopy(mini.manifest)
    manifest["chapters"][1]["mp3"] = "audio/02-dmp.000000000000.mp3"
    with pytest.raises(PublishError) as info:
        daisy.daisy_book(dataclasses.replace(mini, manifest=manifest))
    assert "02-dmp.000000000000.mp3 is missing" in str(info.value)
    assert "Fix: build again with --clean" in str(info.value)


def _copy_of(result, tmp: Path) -> Path:
    """A copy of a build's output folder (dates kept), to rebuild in place of the original."""
    shutil.copytree(result.out_dir, tmp / "out", symlinks=True)
    return tmp / "out"


def _stamps(paths) -> dict:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in paths}


def test_a_rebuild_that_changes_nothing_in_the_book_leaves_its_files_and_zip_untouched(mini, tmp_path):
    """The EPUB deleted by hand: the next build writes it again, and leaves the DAISY book as it was, the spoken
    title (a00.mp3) and the zip included: not re-encoded, not re-zipped, the same files (a sync to the web
    server or a USB stick copies nothing again)."""
    out = _copy_of(mini, tmp_path)
    book = [*sorted((out / "daisy").iterdir()), out / mini.manifest["downloads"]["daisy"]["path"]]
    before = _stamps(book)
    (out / mini.manifest["downloads"]["epub"]["path"]).unlink()
    again = rebuild(DATA / "mini", settings_for(tmp_path, cache_dir=mini.settings.cache_dir))
    assert (again.out_dir / again.manifest["downloads"]["epub"]["path"]).is_file()
    assert _stamps(book) == before
    assert again.manifest["daisy"] == mini.manifest["daisy"]


def test_a_changed_description_reaches_the_zip(mini, tmp_path):
    """The guide's description edited (not said aloud: no audio changes): the next build writes the book's
    ncc.html and its zip again, and the zip holds the new text."""
    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    yaml = guide / "guide.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("Un guide minuscule", "Un tout petit guide"), "utf-8")
    _copy_of(mini, tmp_path)
    again = rebuild(guide, settings_for(tmp_path, cache_dir=mini.settings.cache_dir))
    with zipfile.ZipFile(again.out_dir / again.manifest["downloads"]["daisy"]["path"]) as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == files_in(folder_of(again))
        assert "Un tout petit guide" in zf.read("ncc.html").decode()


def test_on_a_drive_without_hard_links_the_book_holds_copies_of_the_chapters(mini, tmp_path, monkeypatch):
    """A FAT-formatted USB stick has no hard links: the DAISY folder's MP3s are then copies, the same bytes."""
    out = _copy_of(mini, tmp_path)
    for p in (out / "daisy").glob("a0[1-9].mp3"):
        p.unlink()

    def no_link(src, dst):
        raise PermissionError(1, "Operation not permitted", str(dst))

    monkeypatch.setattr(os, "link", no_link)
    again = rebuild(DATA / "mini", settings_for(tmp_path, cache_dir=mini.settings.cache_dir))
    folder = folder_of(again)
    for c, name in zip(again.manifest["chapters"], ("a01.mp3", "a02.mp3")):
        assert (folder / name).read_bytes() == (out / c["mp3"]).read_bytes()
        assert (folder / name).stat().st_nlink == 1
    assert daisy_problems(folder) == []


def test_a_chapter_without_timings_is_a_clear_error(mini):
    manifest = copy.deepcopy(mini.manifest)
    for page in manifest["chapters"][1]["pages"]:
        page["cues"] = []
    with pytest.raises(PublishError) as info:
        daisy.daisy_book(dataclasses.replace(mini, manifest=manifest))
    assert "chapter dmp has no timed sentence" in str(info.value)
    assert "the build's cue timings are missing" in str(info.value) and "build again with --clean" in str(info.value)


def test_the_book_s_language_is_the_guide_s_without_its_region(mini):
    """dc:language and the documents' lang: « fr » for a guide in fr-BE, as for one in plain « fr »."""
    for language in ("fr-BE", "fr"):
        manifest = copy.deepcopy(mini.manifest)
        manifest["guide"]["language"] = language
        b = daisy.daisy_book(dataclasses.replace(mini, manifest=manifest), mini.manifest["daisy"]["title"]["ms"])
        ncc = etree.fromstring(daisy.ncc_html(manifest, b, 9))
        assert metas(ncc, H)["dc:language"] == ["fr"] and ncc.get("lang") == "fr"
        assert etree.fromstring(daisy.content_html(manifest, b)).get("lang") == "fr"


def test_a_guide_without_a_source_gets_no_empty_source_in_its_book(two_level):
    ncc = metas(parse(folder_of(two_level) / "ncc.html").getroot(), H)
    assert "source" not in two_level.manifest["guide"] or not two_level.manifest["guide"]["source"]
    assert "dc:source" not in ncc and ncc["dc:rights"] == ["CC BY 4.0"]


# --- the checker fails on broken books -----------------------------------------------------------------------

def _broken(mini, tmp_path, name: str, pattern: str, new: str) -> list[str]:
    """The checker's problems with a copy of the mini book where `pattern` (a regex) is replaced once."""
    folder = tmp_path / "book"
    shutil.copytree(folder_of(mini), folder)
    text = (folder / name).read_text("utf-8")
    broken, n = re.subn(pattern, new, text, count=1)
    assert n == 1, pattern
    (folder / name).write_text(broken, "utf-8")
    return daisy_problems(folder)


def _set(meta: str) -> str:
    """A pattern for a meta element's content (times and counts differ with the speech engine's version)."""
    return rf'(name="{re.escape(meta)}" content=")[^"]*'


@pytest.mark.parametrize("name, pattern, new, expected", [
    ("ncc.html", '<meta name="dc:publisher"', '<meta name="dc:publishr"', "dc:publisher must occur once"),
    ("ncc.html", _set("dc:format"), r"\g<1>DAISY 3", "dc:format"),
    ("ncc.html", _set("dc:date"), r"\g<1>1 mars 2024", "dc:date must be yyyy-mm-dd"),
    ("ncc.html", _set("ncc:tocItems"), r"\g<1>6", "ncc:tocItems 6"),
    ("ncc.html", _set("ncc:depth"), r"\g<1>2", "ncc:depth 2"),
    ("ncc.html", _set("ncc:files"), r"\g<1>8", "ncc:files 8"),
    ("ncc.html", _set("ncc:multimediaType"), r"\g<1>audioNcc", "must be audioFullText"),
    ("ncc.html", _set("ncc:totalTime"), r"\g<1>00:09:00", "ncc:totalTime 00:09:00"),
    ("ncc.html", _set("ncc:setInfo"), r"\g<1>1/1", "ncc:setInfo must read 'n of m'"),
    ("ncc.html", r'<h3( class="section" id="n0006">.*?)</h3>', r"<h4\1</h4>", "h4 after h2 skips a level"),
    ("ncc.html", '<h1 class="title"', '<h1 class="section"', 'first heading must be <h1 class="title">'),
    ("ncc.html", r'href="s003\.smil#page\.dmp\.attention-t"', 'href="s003.smil#page.dmp.nowhere"',
     "which is no par or text there"),
    ("ncc.html", r'href="s003\.smil#page\.dmp\.attention-t"', 'href="s001.smil#ch.introduction-t"',
     "points back in the book"),
    # What Debian 12's daisy-player needs: links to text elements (a par id: it plays nothing).
    ("ncc.html", r'href="s003\.smil#page\.dmp\.attention-t"', 'href="s003.smil#page.dmp.attention"',
     "not to its text element"),
    # The title opens a par of its own, not the introduction's (played twice from the first item).
    ("ncc.html", r'href="s001\.smil#title-t"', 'href="s001.smil#ch.introduction-t"',
     "opens the same par as the title entry n0001"),
    # daisy-dtb finds no clip in an audio element directly in its par.
    ("s002.smil", r"<seq>(<audio [^>]*/>)</seq>", r"\1", "audio directly in the par"),
    ("ncc.html", r"XHTML 1\.0 Transitional//EN", "XHTML 1.0 Strict//EN", "not XHTML 1.0 Transitional"),
    ("s002.smil", r'src="content\.html#s\.dmp\.quest-ce-que-cest\.2"', 'src="content.html#s.dmp.quest-ce-que-cest.42"',
     "does not resolve to an id"),
    ("s002.smil", r'clip-begin="(npt=[\d.]+s)" clip-end="(npt=[\d.]+s)"', r'clip-begin="\2" clip-end="\1"',
     "is not before clip-end"),
    ("s002.smil", _set("ncc:timeInThisSmil"), r"\g<1>00:00:01.000", "ncc:timeInThisSmil 00:00:01.000"),
    ("s002.smil", _set("ncc:totalElapsedTime"), r"\g<1>00:00:01.000", "ncc:totalElapsedTime 00:00:01.000"),
    ("s002.smil", r'<seq dur="[^"]*"', '<seq dur="1.000s"', "seq dur 1.000s differs"),
    ("master.smil", '<ref src="s003.smil"', '<ref src="s002.smil"', "master.smil: refs"),
    ("master.smil", _set("ncc:timeInThisSmil"), r"\g<1>00:00:01.000", "master.smil: ncc:timeInThisSmil"),
    ("content.html", r'<h3( id="page\.dmp\.quest-ce-que-cest">.*?)</h3>', r"<h4\1</h4>",
     "h4 page.dmp.quest-ce-que-cest after h2 skips a level"),
    # What only the DTDs know: an HTML5 element, and a SMIL 2 attribute.
    ("content.html", r'<h3( id="page\.dmp\.quest-ce-que-cest">.*?)</h3>', r"<section><h3\1</h3></section>",
     "content.html: line"),
    ("s002.smil", r"<seq dur=", '<seq fill="freeze" dur=', "s002.smil: line"),
])
def test_the_checker_rejects_a_broken_book(mini, tmp_path, name, pattern, new, expected):
    problems = _broken(mini, tmp_path, name, pattern, new)
    assert any(expected in p for p in problems), problems


def test_the_checker_rejects_a_clip_past_the_end_of_its_mp3(mini, tmp_path):
    """The last clip of a chapter ends 0.5 s after the MP3's real end."""
    smil = (folder_of(mini) / "s003.smil").read_text("utf-8")
    end = re.findall(r'clip-end="npt=([\d.]+)s"', smil)[-1]
    later = f'clip-end="npt={float(end) + 0.5:.3f}s"'
    problems = _broken(mini, tmp_path, "s003.smil", rf'clip-end="npt={re.escape(end)}s"', later)
    assert any("is after the end of a02.mp3" in p for p in problems), problems


def test_the_checker_counts_stray_files(mini, tmp_path):
    folder = tmp_path / "book"
    shutil.copytree(folder_of(mini), folder)
    shutil.copy(folder / "a01.mp3", folder / "a09.mp3")
    problems = daisy_problems(folder)
    assert any("audio files no SMIL plays: ['a09.mp3']" in p for p in problems), problems
    assert any("ncc:files 9 but the book has 10 files" in p for p in problems), problems


def test_clock_values():
    assert daisy.clock(3_723_045) == "01:02:03.045" and seconds("01:02:03.045") == pytest.approx(3723.045)
    assert daisy.hms(44_499) == "00:00:44" and daisy.hms(44_500) == "00:00:45"
    assert daisy.hms(3_723_045) == "01:02:03"  # a long book's ncc:totalTime, as a player shows it
    assert daisy.npt(9_754) == "npt=9.754s" and seconds("13.134s") == pytest.approx(13.134)
    assert seconds("300ms") == pytest.approx(0.3) and seconds("02:03") == 123
