"""ID3v2.3 tags, cover art and CHAP/CTOC chapter frames, written with mutagen.

mutagen sorts frames by size when saving (quodlibet/mutagen#506), and ffprobe lists CHAP frames in
file order, so chapters came out shuffled. _OrderedID3 writes CTOC first and CHAPs by start time.
Only ID3v2.3 frames are written (TYER, not v2.4's TDRC): v2.3 is what car radios and older players read.
"""

from __future__ import annotations

from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TCOP,
    TIT2,
    TIT3,
    TLAN,
    TPE1,
    TPE2,
    TPOS,
    TPUB,
    TRCK,
    TXXX,
    TYER,
    USLT,
    WOAS,
    CTOCFlags,
)
from mutagen.id3._tags import save_frame

from audioguide.publishers import end_sentence

NO_OFFSET = 0xFFFFFFFF


class _OrderedID3(ID3):
    def _write(self, config):
        frames = list(self.values())

        def key(f):
            if f.FrameID == "CTOC":
                return (1, 0 if f.flags & CTOCFlags.TOP_LEVEL else 1, f.element_id)
            if f.FrameID == "CHAP":
                return (2, f.start_time, f.element_id)
            if f.FrameID == "APIC":
                return (3, 0, "")
            return (0, 0, f.HashKey)

        return bytearray().join(save_frame(f, config=config) for f in sorted(frames, key=key))


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _save(tags: ID3, path: Path) -> None:
    tags.update_to_v23()  # drops any v2.4-only frame a caller might add, so the tag is v2.3 throughout
    tags.save(str(path), v2_version=3, padding=lambda info: 0)


def _common(tags: ID3, guide, cover: bytes, title: str, description: str) -> None:
    tags.add(TIT2(encoding=3, text=[title]))
    tags.add(TALB(encoding=3, text=[guide.title]))
    if guide.publisher:  # optional: an empty artist would show as a blank line in players
        tags.add(TPE1(encoding=3, text=[guide.publisher]))
        tags.add(TPE2(encoding=3, text=[guide.publisher]))
        tags.add(TPUB(encoding=3, text=[guide.publisher]))
    tags.add(TCON(encoding=3, text=["Speech"]))
    tags.add(TLAN(encoding=3, text=["fre"]))
    tags.add(TYER(encoding=3, text=[f"{guide.date.year:04d}"]))
    if guide.rights:
        tags.add(TCOP(encoding=3, text=[guide.rights]))
    if guide.link:
        tags.add(WOAS(url=guide.link))
    tags.add(COMM(encoding=3, lang="fre", desc="", text=[description]))
    tags.add(TXXX(encoding=3, desc="AUDIOGUIDE_GUIDE_ID", text=[guide.id]))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Couverture", data=cover))


def tag_chapter(path: Path, guide, chapter, pages, transcript: str, cover: bytes, total: int) -> None:
    """One chapter file: every page (a timing dict: title, start, end) is a CHAP, under an ordered CTOC."""
    tags = _OrderedID3()
    description = f"{end_sentence(chapter.title)} {guide.levels.page.plural.capitalize()} : " + \
        end_sentence(" ; ".join(p.title for p in chapter.pages))
    # No "01." in the title: screen readers say "zéro un point"; the number is in TRCK.
    _common(tags, guide, cover, chapter.title, description)
    tags.add(TRCK(encoding=3, text=[f"{chapter.number}/{total}"]))
    if chapter.part is not None:
        tags.add(TIT3(encoding=3, text=[f"{guide.levels.part.title} {chapter.part.number} : {chapter.part.title}"]))
        tags.add(TPOS(encoding=3, text=[f"{chapter.part.number}/{len(guide.parts)}"]))
    tags.add(TXXX(encoding=3, desc="AUDIOGUIDE_CHAPTER_ID", text=[chapter.id]))
    tags.add(USLT(encoding=3, lang="fre", desc="Transcription", text=transcript))
    ids = []
    for i, p in enumerate(pages, 1):
        eid = f"p{i:03d}"
        ids.append(eid)
        tags.add(CHAP(element_id=eid, start_time=_ms(p["start"]), end_time=_ms(p["end"]), start_offset=NO_OFFSET,
                      end_offset=NO_OFFSET, sub_frames=[TIT2(encoding=3, text=[p["title"]])]))
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                  sub_frames=[TIT2(encoding=3, text=[chapter.title])]))
    _save(tags, path)


def _page_title(chapter, page_title: str) -> str:
    """A page's CHAP title in the whole-guide file: players that list chapters flat still show the topic."""
    return chapter.title if page_title == chapter.title else f"{chapter.title} : {page_title}"


def tag_whole(path: Path, guide, spans: list[tuple], cover: bytes) -> None:
    """The whole-guide file: a CHAP per page; the CTOC nests parts, then chapters, each listing its pages.

    spans: (chapter, start_s, end_s, pages) in guide order, pages being the chapter file's page timings
    (title, start, end, relative to the chapter). No CHAP ends past the audio.
    """
    tags = _OrderedID3()
    _common(tags, guide, cover, f"{guide.title} (guide complet)", guide.description)
    tags.add(TRCK(encoding=3, text=["1/1"]))
    top: list[str] = []
    by_part: dict[str, list[str]] = {}
    for ch, start, end, pages in spans:
        cid = f"c{ch.number:03d}"
        children = []
        for i, p in enumerate(pages, 1):
            eid = f"{cid}p{i:03d}"
            children.append(eid)
            p_start = start + p["start"]
            p_end = end if i == len(pages) else min(start + p["end"], end)
            tags.add(CHAP(element_id=eid, start_time=_ms(p_start), end_time=int(p_end * 1000),
                          start_offset=NO_OFFSET, end_offset=NO_OFFSET,
                          sub_frames=[TIT2(encoding=3, text=[_page_title(ch, p["title"])])]))
        tags.add(CTOC(element_id=cid, flags=CTOCFlags.ORDERED, child_element_ids=children,
                      sub_frames=[TIT2(encoding=3, text=[ch.title])]))
        if ch.part is None:
            top.append(cid)
        else:
            pid = f"part-{ch.part.number:02d}"
            if pid not in by_part:
                by_part[pid] = []
                top.append(pid)
            by_part[pid].append(cid)
    for part in guide.parts:
        pid = f"part-{part.number:02d}"
        if pid in by_part:
            name = f"{guide.levels.part.title} {part.number} : {part.title}"
            tags.add(CTOC(element_id=pid, flags=CTOCFlags.ORDERED, child_element_ids=by_part[pid],
                          sub_frames=[TIT2(encoding=3, text=[name])]))
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=top,
                  sub_frames=[TIT2(encoding=3, text=[guide.title])]))
    _save(tags, path)
