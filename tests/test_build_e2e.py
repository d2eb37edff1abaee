"""End to end with real espeak-ng and ffmpeg: read the MP3s back with mutagen and ffprobe."""

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from audioguide.audio import measure_loudness
from audioguide.build import build
from audioguide.cli import cli
from audioguide.files import OWNERSHIP_NAME

from conftest import needs_tools, settings_for

pytestmark = [needs_tools, pytest.mark.e2e]


def ffprobe(path: Path, *args) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def test_outputs_and_manifest(mini_build):
    out, m = mini_build.out_dir, mini_build.manifest
    assert (out / "manifest.json").exists() and (out / "cover.jpg").exists()
    assert mini_build.encoded == len(m["chapters"]) + 1  # as the build's summary counts them: with the whole guide
    assert [c["id"] for c in m["chapters"]] == ["introduction", "dmp"]
    for c in m["chapters"]:
        mp3 = out / c["mp3"]
        assert hashlib.sha256(mp3.read_bytes()).hexdigest() == c["sha256"]
        assert mp3.stat().st_size == c["bytes"]
        assert abs(MP3(mp3).info.length - c["duration"]) < 0.05
        assert c["pages"][0]["start"] == 0 and c["pages"][-1]["end"] <= c["duration"] + 0.1
        for rel in c["transcript"].values():
            assert (out / rel).exists()
    # MP3 names carry the start of their sha256: a feed or manifest never names a file holding other bytes.
    whole = json.loads((out / "manifest.json").read_text())["whole"]
    assert re.fullmatch(r"mini-complet\.[0-9a-f]{12}\.mp3", whole["mp3"])
    for item in m["chapters"] + [whole]:
        assert item["mp3"].rsplit(".", 2)[1] == item["sha256"][:12]


def test_mp3_format(mini_build):
    for c in mini_build.manifest["chapters"]:
        s = ffprobe(mini_build.out_dir / c["mp3"], "-show_streams")["streams"][0]
        assert s["codec_name"] == "mp3" and s["channels"] == 1 and s["sample_rate"] == "44100"
        assert s["bit_rate"] == "64000"


def test_id3_tags(mini_build):
    m = mini_build.manifest
    tags = ID3(mini_build.out_dir / m["chapters"][1]["mp3"])
    assert tags.version == (2, 3, 0)
    assert tags["TIT2"].text == ["Le DMP"]  # no "02.": screen readers would say "zéro deux point"
    assert tags["TALB"].text == ["Guide d'essai & <test>"]
    assert tags["TPE1"].text == ["Association Test"]
    assert tags["TRCK"].text == ["2/2"]
    assert tags["TCON"].text == ["Speech"]
    assert tags["TLAN"].text == ["fre"]
    raw = ID3(mini_build.out_dir / m["chapters"][1]["mp3"], translate=False)  # as stored, not upgraded to v2.4
    assert raw["TYER"].text == ["2024"] and "TDRC" not in raw  # v2.3 frames only
    assert "Qu'est-ce que c'est ?" in tags["COMM::fre"].text[0]
    apic = tags.getall("APIC")[0]
    assert apic.mime == "image/jpeg" and apic.data[:3] == b"\xff\xd8\xff"
    uslt = tags.getall("USLT")[0].text  # the written form: readers see "DMP", only the voice says "D.M.P."
    assert "Le DMP est un carnet de santé numérique." in uslt and "D.M.P." not in uslt


def test_cover_is_square_rgb_jpeg(mini_build):
    from PIL import Image

    img = Image.open(mini_build.out_dir / "cover.jpg")
    assert img.format == "JPEG" and img.mode == "RGB" and 1400 <= img.size[0] == img.size[1] <= 3000


def test_chapters_in_time_order_with_titles(mini_build):
    out, m = mini_build.out_dir, mini_build.manifest
    ch = m["chapters"][1]
    chapters = ffprobe(out / ch["mp3"], "-show_chapters")["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [p["title"] for p in ch["pages"]]
    starts = [float(c["start_time"]) for c in chapters]
    assert starts == sorted(starts)
    for c, p in zip(chapters, ch["pages"]):
        assert abs(float(c["start_time"]) - p["start"]) < 0.01
    toc = [f for f in ID3(out / ch["mp3"]).getall("CTOC")]
    assert toc and toc[0].child_element_ids == ["p001", "p002"]

    whole = out / m["whole"]["mp3"]
    wch = ffprobe(whole, "-show_chapters")["chapters"]
    pages = [(c, p) for c in m["chapters"] for p in c["pages"]]
    assert len(wch) == len(pages)  # one mark per page, not per chapter
    assert wch[0]["tags"]["title"] == "Introduction : Bienvenue"
    assert wch[len(m["chapters"][0]["pages"])]["tags"]["title"] == "Le DMP : Qu'est-ce que c'est ?"
    assert float(wch[len(m["chapters"][0]["pages"])]["start_time"]) == \
        pytest.approx(m["chapters"][0]["duration"], abs=0.1)
    starts = [float(c["start_time"]) for c in wch]
    assert starts == sorted(starts)
    ctocs = {t.element_id: t for t in ID3(whole).getall("CTOC")}
    assert ctocs["toc"].child_element_ids == ["c001", "part-01"]
    assert ctocs["part-01"].child_element_ids == ["c002"]
    assert ctocs["c002"].child_element_ids == [f"c002p{i:03d}" for i in range(1, len(ch["pages"]) + 1)]


def test_loudness_on_encoded_mp3(mini_build):
    m = mini_build.manifest
    files = [mini_build.out_dir / c["mp3"] for c in m["chapters"]] + [mini_build.out_dir / m["whole"]["mp3"]]
    for f in files:
        lufs, tp = measure_loudness(f, true_peak=True)
        assert -17.0 <= lufs <= -15.0, (f.name, lufs)
        assert tp is not None and tp <= -1.0, (f.name, tp)


def test_whole_file_has_an_info_header_and_no_mark_past_the_audio(mini_build):
    """Without a Xing/Info frame some players cannot seek in, or show the length of, the 53-minute file."""
    from audioguide.audio import mp3_frames

    m = mini_build.manifest
    whole = mini_build.out_dir / m["whole"]["mp3"]
    data = whole.read_bytes()
    start, end, frames, _ = mp3_frames(data, whole.name)
    tag_end = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    info = data[tag_end:start]
    assert info[21:25] == b"Info", "the first frame after the tag must be the Info header"
    assert int.from_bytes(info[29:33], "big") == frames
    assert int.from_bytes(info[33:37], "big") == end - tag_end
    length = MP3(whole).info.length
    assert length == pytest.approx(sum(c["duration"] for c in m["chapters"]), abs=0.05)
    marks = ID3(whole).getall("CHAP")
    assert max(c.end_time for c in marks) <= int(length * 1000)
    for c in marks:
        assert c.start_time < c.end_time


def test_durations_add_up(mini_build):
    m = mini_build.manifest
    whole = float(ffprobe(mini_build.out_dir / m["whole"]["mp3"], "-show_format")["format"]["duration"])
    assert whole == pytest.approx(sum(c["duration"] for c in m["chapters"]), abs=0.3)
    # Where each chapter is in the one-file guide (the podcast's chapter marks of it): each starts where the
    # one before ends, and lasts as long as its own MP3.
    end = 0.0
    for c, w in zip(m["chapters"], m["whole"]["chapters"], strict=True):
        assert w["id"] == c["id"] and w["start"] == pytest.approx(end, abs=0.01)
        assert w["end"] - w["start"] == pytest.approx(c["duration"], abs=0.05)
        end = w["end"]


def test_vtt_follows_narration(mini_build):
    out, ch = mini_build.out_dir, mini_build.manifest["chapters"][1]
    vtt = (out / ch["transcript"]["vtt"]).read_text()
    assert vtt.startswith("WEBVTT")
    assert "Le DMP est un carnet de santé numérique." in vtt and "D.M.P." not in vtt
    txt = (out / ch["transcript"]["txt"]).read_text()
    # The page title says "attention"; the callout label is not said a second time. Written: digits, addresses.
    assert "Page 2 : attention" in txt and "Attention :" not in txt
    assert "www.ameli.fr/assure" in txt and "point f r" not in txt


def test_a_folder_holding_another_guides_build_is_refused_by_that_guides_name(mini_build, mini_guide, tmp_path):
    """Without --allow-foreign-files, nothing is written and the message says whose build the folder holds."""
    out = tmp_path / "out"
    shutil.copytree(mini_build.out_dir, out)
    g = mini_guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("id: mini", "id: autre"), "utf-8")
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    res = CliRunner().invoke(cli, ["-q", "build", str(mini_guide), "--out", str(out), "--cache", str(tmp_path / "c"),
                                   "--engine", "silence"])
    assert res.exit_code == 2 and "the build of another guide (mini)" in res.output, res.output
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_rebuild_changes_nothing_and_edit_rebuilds_one_chapter(tmp_path, mini_guide):
    s = settings_for(tmp_path)
    first = build(mini_guide, s)
    before = {p: p.read_bytes() for p in first.out_dir.rglob("*") if p.is_file()}
    again = build(mini_guide, settings_for(tmp_path))
    assert again.synthesized == 0 and again.encoded == 0 and again.phone_encoded == 0
    assert {p: p.read_bytes() for p in again.out_dir.rglob("*") if p.is_file()} == before

    g = mini_guide / "guide.yaml"
    g.write_text(g.read_text().replace("Il dure moins d'une minute.", "Il est très court."))
    edited = build(mini_guide, settings_for(tmp_path))
    assert edited.synthesized == 1
    assert edited.encoded == 2  # the introduction chapter and the whole-guide file
    assert edited.phone_encoded == 1  # the introduction's phone pages
    changed = {p for p in before if p.exists() and p.read_bytes() != before[p]}
    names = {p.relative_to(first.out_dir).as_posix() for p in changed}
    assert not any("02-dmp" in n for n in names)
    assert len(list(first.out_dir.glob("audio/01-introduction.*.mp3"))) == 2  # the previous one kept for one build
    assert {n for n in names if n.startswith("phone/sounds/")} == \
        {f"phone/sounds/01-introduction-p01.{e}" for e in ("sln", "wav", "ulaw", "alaw", "g722")}


def test_two_clean_builds_are_byte_identical(tmp_path, mini_guide):
    """MP3s, feed, manifest, phone bundle and kiosk: same bytes, whatever the job count."""
    a = build(mini_guide, settings_for(tmp_path / "a", jobs=1))
    b = build(mini_guide, settings_for(tmp_path / "b", jobs=3))
    # The ownership record is left out: it holds each file's mtime.
    files_a = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file() and p.name != OWNERSHIP_NAME)
    files_b = sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*") if p.is_file() and p.name != OWNERSHIP_NAME)
    assert files_a == files_b
    assert {"feed.xml", "manifest.json", "phone/extensions.conf", "phone/sounds/menu-main.ulaw",
            "kiosk/index.html"} <= {p.as_posix() for p in files_a}
    for rel in files_a:
        assert (a.out_dir / rel).read_bytes() == (b.out_dir / rel).read_bytes(), rel
