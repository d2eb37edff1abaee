"""ID3 tags written by publishers/mp3.py, read back with mutagen and frame by frame from the file's bytes.
Fast (one second of silence, no build), so script/mutation runs it for every mp3.py mutant."""

import struct
import subprocess

import pytest
from mutagen.id3 import ID3

from audioguide.guide import load_guide
from audioguide.publishers.mp3 import tag_chapter, tag_whole

from conftest import DATA, needs_tools

pytestmark = [needs_tools]
COVER = b"\xff\xd8\xff\xe0cover"


@pytest.fixture(scope="module")
def guide():
    g = load_guide(DATA / "script")
    g.rights, g.link = "CC BY 4.0", "https://asso.example/guide"
    return g


@pytest.fixture
def mp3(tmp_path):
    path = tmp_path / "a.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "1",
                    "-c:a", "libmp3lame", "-b:a", "64k", str(path)], check=True)
    return path


def frames_in_file_order(path) -> list[str]:
    """ID3v2.3 frames as stored: 'ID' or 'ID:element-id' for CHAP and CTOC."""
    data = path.read_bytes()
    assert data[:3] == b"ID3" and data[3] == 3  # ID3v2.3, as players expect
    size = sum(b << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    pos, out = 10, []
    while pos < 10 + size and data[pos:pos + 4].strip(b"\0"):
        fid, n = data[pos:pos + 4].decode(), struct.unpack(">I", data[pos + 4:pos + 8])[0]
        body = data[pos + 10:pos + 10 + n]
        out.append(f"{fid}:{body.split(bytes(1), 1)[0].decode()}" if fid in ("CHAP", "CTOC") else fid)
        pos += 10 + n
    assert pos == 10 + size  # no padding: the tags end where the audio starts
    return out


def text(tags, fid):
    return [str(t) for t in tags.getall(fid)[0].text] if tags.getall(fid) else None


def test_chapter_tags(guide, mp3):
    ch = guide.chapter("c")  # the second file (after the introduction), in part 1 of 2, two pages
    pages = [{"title": "Qu'est-ce que c'est ?", "start": 0.0, "end": 0.4004},
             {"title": "Pour qui ?", "start": 0.4004, "end": 1.0}]
    tag_chapter(mp3, guide, ch, pages, "Le texte.\nDit.", COVER, len(guide.chapters))
    t = ID3(mp3)
    assert t.version == (2, 3, 0)
    assert text(t, "TIT2") == ["Vos données"] and text(t, "TALB") == ["Guide test"]  # the number is in TRCK
    assert text(t, "TPE1") == text(t, "TPE2") == text(t, "TPUB") == ["Asso"]
    assert text(t, "TCON") == ["Speech"] and text(t, "TLAN") == ["fre"] and str(t.getall("TDRC")[0]) == "2024"
    assert text(t, "TCOP") == ["CC BY 4.0"] and t.getall("WOAS")[0].url == "https://asso.example/guide"
    assert text(t, "TRCK") == ["2/3"] and text(t, "TPOS") == ["1/2"] and text(t, "TIT3") == ["Partie 1 : Droits"]
    raw = ID3(mp3, translate=False)  # as stored: v2.3 frames only
    assert raw["TYER"].text == ["2024"] and "TDRC" not in raw
    comm = t.getall("COMM")[0]
    # A title ending "?" takes no extra full stop: never "?.".
    assert (comm.lang, comm.desc, comm.text) == (
        "fre", "", ["Vos données. Pages : Qu'est-ce que c'est ? ; Pour qui ?"])
    uslt = t.getall("USLT")[0]
    assert (uslt.lang, uslt.desc, uslt.text) == ("fre", "Transcription", "Le texte.\nDit.")
    assert {x.desc: x.text for x in t.getall("TXXX")} == {"AUDIOGUIDE_GUIDE_ID": ["essai"],
                                                          "AUDIOGUIDE_CHAPTER_ID": ["c"]}
    apic = t.getall("APIC")[0]
    assert (apic.mime, apic.type, apic.desc, apic.data) == ("image/jpeg", 3, "Couverture", COVER)
    chaps = sorted(t.getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.element_id, c.start_time, c.end_time, c.start_offset, c.end_offset, str(c.sub_frames["TIT2"]))
            for c in chaps] == [("p001", 0, 400, 0xFFFFFFFF, 0xFFFFFFFF, "Qu'est-ce que c'est ?"),
                                ("p002", 400, 1000, 0xFFFFFFFF, 0xFFFFFFFF, "Pour qui ?")]
    (toc,) = t.getall("CTOC")
    assert (toc.element_id, toc.child_element_ids, str(toc.sub_frames["TIT2"])) == ("toc", ["p001", "p002"],
                                                                                     "Vos données")
    assert toc.flags == 3  # top level and ordered
    order = frames_in_file_order(mp3)
    assert order[-4:] == ["CTOC:toc", "CHAP:p001", "CHAP:p002", "APIC"]  # players list chapters in file order
    assert order[:-4] == sorted(order[:-4])


def test_intro_chapter_has_no_part_tags(guide, mp3):
    tag_chapter(mp3, guide, guide.intro, [{"title": "Introduction", "start": 0, "end": 1}], "x", COVER, 3)
    t = ID3(mp3)
    assert text(t, "TIT2") == ["Introduction"] and text(t, "TRCK") == ["1/3"]
    assert t.getall("TPOS") == [] and t.getall("TIT3") == []


def test_whole_guide_nests_parts_in_its_table_of_contents(guide, mp3):
    chs = guide.chapters
    # Each chapter: two pages; the last page ends with the chapter, never past it.
    spans = [(c, float(i), i + 0.5, [{"title": "Un", "start": 0.0, "end": 0.2}, {"title": "Deux", "start": 0.2,
                                                                                  "end": 0.6}])
             for i, c in enumerate(chs)]
    tag_whole(mp3, guide, spans, COVER)
    t = ID3(mp3)
    assert text(t, "TIT2") == ["Guide test (guide complet)"] and text(t, "TRCK") == ["1/1"]
    assert t.getall("COMM")[0].text == ["Un essai."]
    chaps = sorted(t.getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.element_id, c.start_time, c.end_time, str(c.sub_frames["TIT2"])) for c in chaps] == [
        x for i, c in enumerate(chs) for x in (
            (f"c{c.number:03d}p001", i * 1000, i * 1000 + 200, f"{c.title} : Un"),
            (f"c{c.number:03d}p002", i * 1000 + 200, i * 1000 + 500, f"{c.title} : Deux"))]
    # no byte offsets (0xFFFFFFFF): a player seeks by the times, never to byte 0 of the file
    assert {(c.start_offset, c.end_offset) for c in chaps} == {(0xFFFFFFFF, 0xFFFFFFFF)}
    tocs = {c.element_id: c for c in t.getall("CTOC")}
    assert tocs["toc"].child_element_ids == ["c001", "part-01", "part-02"] and tocs["toc"].flags == 3
    assert tocs["part-01"].child_element_ids == ["c002"] and tocs["part-02"].child_element_ids == ["c003"]
    assert tocs["c002"].child_element_ids == ["c002p001", "c002p002"] and tocs["c002"].flags == 1
    assert tocs["part-01"].flags == 1 and str(tocs["part-02"].sub_frames["TIT2"]) == "Partie 2 : Aides"
    assert str(tocs["toc"].sub_frames["TIT2"]) == "Guide test"
    order = frames_in_file_order(mp3)
    assert order[-13:] == ["CTOC:toc", "CTOC:c001", "CTOC:c002", "CTOC:c003", "CTOC:part-01", "CTOC:part-02",
                           *[f"CHAP:c{n:03d}p00{p}" for n in (1, 2, 3) for p in (1, 2)], "APIC"]
