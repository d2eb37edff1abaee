"""End to end with real espeak-ng and ffmpeg: read the MP3s back with mutagen and ffprobe."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from audioguide.audio import measure_loudness
from audioguide.build import build

from conftest import needs_tools, settings_for

pytestmark = [needs_tools, pytest.mark.e2e]


def ffprobe(path: Path, *args) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def test_outputs_and_manifest(mini_build):
    out, m = mini_build.out_dir, mini_build.manifest
    assert (out / "manifest.json").exists() and (out / "cover.jpg").exists()
    assert [c["id"] for c in m["chapters"]] == ["introduction", "dmp"]
    for c in m["chapters"]:
        mp3 = out / c["mp3"]
        assert hashlib.sha256(mp3.read_bytes()).hexdigest() == c["sha256"]
        assert mp3.stat().st_size == c["bytes"]
        assert abs(MP3(mp3).info.length - c["duration"]) < 0.05
        assert c["pages"][0]["start"] == 0 and c["pages"][-1]["end"] <= c["duration"] + 0.1
        for rel in c["transcript"].values():
            assert (out / rel).exists()
    assert json.loads((out / "manifest.json").read_text())["whole"]["mp3"] == "mini-complet.mp3"


def test_mp3_format(mini_build):
    for c in mini_build.manifest["chapters"]:
        s = ffprobe(mini_build.out_dir / c["mp3"], "-show_streams")["streams"][0]
        assert s["codec_name"] == "mp3" and s["channels"] == 1 and s["sample_rate"] == "44100"
        assert s["bit_rate"] == "64000"


def test_id3_tags(mini_build):
    m = mini_build.manifest
    tags = ID3(mini_build.out_dir / m["chapters"][1]["mp3"])
    assert tags["TIT2"].text == ["02. Le DMP"]
    assert tags["TALB"].text == ["Guide d'essai & <test>"]
    assert tags["TPE1"].text == ["Association Test"]
    assert tags["TRCK"].text == ["2/2"]
    assert tags["TCON"].text == ["Speech"]
    assert tags["TLAN"].text == ["fre"]
    assert str(tags["TDRC"].text[0]) == "2024"
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
    assert [c["tags"]["title"] for c in wch] == ["Introduction", "Le DMP"]
    assert float(wch[1]["start_time"]) == pytest.approx(m["chapters"][0]["duration"], abs=0.1)
    ctocs = {t.element_id: t for t in ID3(whole).getall("CTOC")}
    assert ctocs["toc"].child_element_ids == ["c001", "part-01"]
    assert ctocs["part-01"].child_element_ids == ["c002"]


def test_loudness_on_encoded_mp3(mini_build):
    m = mini_build.manifest
    files = [mini_build.out_dir / c["mp3"] for c in m["chapters"]] + [mini_build.out_dir / m["whole"]["mp3"]]
    for f in files:
        lufs, tp = measure_loudness(f, true_peak=True)
        assert -17.0 <= lufs <= -15.0, (f.name, lufs)
        assert tp is not None and tp <= -1.0, (f.name, tp)


def test_durations_add_up(mini_build):
    m = mini_build.manifest
    whole = float(ffprobe(mini_build.out_dir / m["whole"]["mp3"], "-show_format")["format"]["duration"])
    assert whole == pytest.approx(sum(c["duration"] for c in m["chapters"]), abs=0.3)


def test_vtt_follows_narration(mini_build):
    out, ch = mini_build.out_dir, mini_build.manifest["chapters"][1]
    vtt = (out / ch["transcript"]["vtt"]).read_text()
    assert vtt.startswith("WEBVTT")
    assert "Le DMP est un carnet de santé numérique." in vtt and "D.M.P." not in vtt
    txt = (out / ch["transcript"]["txt"]).read_text()
    assert "Attention :" in txt and "www.ameli.fr/assure" in txt and "point f r" not in txt


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
    assert "audio/02-dmp.mp3" not in names and not any("02-dmp" in n for n in names)
    assert {n for n in names if n.startswith("phone/sounds/")} == \
        {f"phone/sounds/01-introduction-p01.{e}" for e in ("sln", "wav", "ulaw", "alaw", "g722")}


def test_two_clean_builds_are_byte_identical(tmp_path, mini_guide):
    """MP3s, feed, manifest, phone bundle and kiosk: same bytes, whatever the job count."""
    a = build(mini_guide, settings_for(tmp_path / "a", jobs=1))
    b = build(mini_guide, settings_for(tmp_path / "b", jobs=3))
    files_a = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*") if p.is_file())
    assert files_a == files_b
    assert {"feed.xml", "manifest.json", "phone/extensions.conf", "phone/sounds/menu-main.ulaw",
            "kiosk/index.html"} <= {p.as_posix() for p in files_a}
    for rel in files_a:
        assert (a.out_dir / rel).read_bytes() == (b.out_dir / rel).read_bytes(), rel
