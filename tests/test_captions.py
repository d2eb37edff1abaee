"""Captions follow caption practice (2 lines of 42 characters, cues of 1 to 7 s, cut at clauses), and their
times come from the audio: every cue boundary between clips is within 0.3 s of a speech boundary measured in
the MP3 (a caption that starts inside a clip is timed by the engine's word events: see test_timing.py)."""

import json
import re
import subprocess

import pytest

from audioguide.guide import load_guide
from audioguide.narration.captions import fits_caption, wrap_caption
from audioguide.narration.script import ScriptWriter
from audioguide.publishers.transcripts import caption_cues, chapters_json, srt, text_transcript, vtt

from conftest import ESANTE, needs_tools

TOLERANCE_S = 0.3


def parse_cues(text: str, sep: str = ".") -> list[dict]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        if lines[0] == "WEBVTT":
            continue
        stamp = rf"(\d+):(\d\d):(\d\d){re.escape(sep)}(\d{{3}})"
        m = re.fullmatch(rf"{stamp} --> {stamp}", lines[1])
        assert m, lines
        n = [int(x) for x in m.groups()]
        cues.append({"id": lines[0], "start": n[0] * 3600 + n[1] * 60 + n[2] + n[3] / 1000,
                     "end": n[4] * 3600 + n[5] * 60 + n[6] + n[7] / 1000, "lines": lines[2:]})
    return cues


def check_practice(cues: list[dict], where: str) -> None:
    assert cues, where
    for i, c in enumerate(cues):
        assert c["id"] == str(i + 1), where
        assert 1 <= len(c["lines"]) <= 2 and all(0 < len(line) <= 42 for line in c["lines"]), (where, c)
        assert 1.0 - 1e-6 <= c["end"] - c["start"] <= 7.0, (where, c)
        if i:
            assert cues[i - 1]["end"] <= c["start"], (where, cues[i - 1], c)


def speech_bounds(mp3) -> tuple[list[float], list[float]]:
    """(speech starts, speech ends) in the audio, from ffmpeg's silencedetect."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(mp3), "-af",
                          "silencedetect=noise=-45dB:d=0.12", "-f", "null", "-"],
                         # errors="replace": the tags may be cut mid-character
                         capture_output=True, text=True, errors="replace", check=True).stderr
    ends = [float(x) for x in re.findall(r"silence_start: ([\d.]+)", err)]
    starts = [float(x) for x in re.findall(r"silence_end: ([\d.]+)", err)]
    return starts, ends


# --- units ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,lines", [
    ("Court.", ["Court."]),
    ("Le DMP, partie 1 sur 2 : qu'est-ce que c'est ?", ["Le DMP, partie 1 sur 2 :", "qu'est-ce que c'est ?"]),
    ("Attention : Appelez le 15 en cas d'urgence.", ["Attention :", "Appelez le 15 en cas d'urgence."]),
    ("www.ameli.fr/medecin/exercice-liberal/telemedecine/teleexpertise",
     ["www.ameli.fr/medecin/exercice-liberal/", "telemedecine/teleexpertise"]),
])
def test_wrap_caption(text, lines):
    assert wrap_caption(text) == lines


def test_wrap_caption_never_overflows_a_line():
    assert all(len(line) <= 42 for line in wrap_caption("x" * 100 + " mot"))
    assert not fits_caption("mot " * 30)


def test_short_clips_share_a_caption_or_stay_up_a_second():
    long = "Il dure moins d'une minute, juste le temps de vérifier la chaîne."
    page = {"cues": [{"start": 0.0, "end": 0.6, "written": "Bienvenue."},
                     {"start": 0.85, "end": 4.0, "written": long},
                     {"start": 4.25, "end": 4.8, "written": "Merci."}]}
    caps = caption_cues([page])
    assert [c["text"].replace("\n", " ") for c in caps] == [f"Bienvenue. {long}", "Merci."]
    assert caps[0]["start"] == 0.0 and caps[0]["end"] == 4.0
    assert caps[1]["end"] == pytest.approx(5.25)  # a 0.55 s clip stays on screen 1 s, into the silence after it
    two = caption_cues([{"cues": page["cues"][:2]}, {"cues": [{"start": 4.3, "end": 4.9, "written": "Fin."}]}])
    assert two[-1]["end"] == pytest.approx(5.3)


def test_captions_show_the_guide_signs_on_every_player():
    """"<", ">" and "&" in a caption read as written on a player that knows only WebVTT's basic escapes (Android's
    ExoPlayer decodes &lt; &gt; &amp; and shows any other as is), and in SRT; hours count past the first."""
    said = "Tarif <25 € & plus> ici."
    caps = caption_cues([{"cues": [{"start": 0.0, "end": 2.0, "text": "tarif", "written": said}]},
                         {"cues": [{"start": 3725.5, "end": 3727.25, "text": "fin", "written": "Fin."}]}])
    basic = {"lt": "<", "gt": ">", "amp": "&"}
    web, sub = parse_cues(vtt(caps)), parse_cues(srt(caps), ",")
    assert [re.sub(r"&(lt|gt|amp);", lambda m: basic[m[1]], " ".join(c["lines"])) for c in web] == [said, "Fin."]
    assert [" ".join(c["lines"]) for c in sub] == [said, "Fin."]
    for cues in (web, sub):
        check_practice(cues, "made-up chapter")
        assert [(c["start"], c["end"]) for c in cues] == [(0.0, 2.0), (3725.5, 3727.25)]


def test_a_clip_with_nothing_written_is_skipped_and_the_captions_after_it_are_kept():
    """A clip with no text (a pause in the timing) shows no caption, and the page's next sentences still do."""
    pages = [{"cues": [{"start": 0.0, "end": 2.0, "text": "Un."}, {"start": 2.0, "end": 2.5, "text": ""},
                       {"start": 2.5, "end": 5.0, "text": "Deux.", "written": "Deux."}]}]
    cues = parse_cues(vtt(caption_cues(pages)))
    assert [(c["start"], c["end"], c["lines"]) for c in cues] == [(0.0, 2.0, ["Un."]), (2.5, 5.0, ["Deux."])]


def test_text_transcript_is_the_chapter_as_written():
    chapter = {"title": "Le DMP", "pages": [
        {"cues": [{"text": "Le D.M.P.", "written": "Le DMP", "cont": True}, {"text": "est gratuit.", "written": ""}]},
        {"cues": [{"text": "Appelez le quinze.", "written": "Appelez le 15."}]}]}
    assert text_transcript(chapter) == "Le DMP\n\nLe DMP est gratuit.\n\nAppelez le 15.\n"


def test_chapter_marks_give_each_page_its_title_and_times():
    """The Podcasting 2.0 chapters file a podcast app reads: each page's title, start and end, to the ms."""
    chapter = {"title": "Le DMP", "pages": [{"title": "Qu'est-ce ?", "start": 5.0, "end": 12.3456, "cues": []},
                                            {"title": "L'ouvrir", "start": 12.3456, "end": 30.0, "cues": []}]}
    assert json.loads(chapters_json(chapter, "Association Test")) == {
        "version": "1.2.0", "author": "Association Test", "title": "Le DMP",
        "chapters": [{"startTime": 5.0, "endTime": 12.346, "title": "Qu'est-ce ?"},
                     {"startTime": 12.346, "endTime": 30.0, "title": "L'ouvrir"}]}
    assert "author" not in json.loads(chapters_json(chapter, ""))


def test_a_short_clip_joins_its_neighbour_up_to_seven_seconds():
    second = "Le second point est un peu plus long que le premier."  # twice over, it would need 3 lines
    page = [{"start": 0.0, "end": 3.0, "written": "Premier point."}, {"start": 3.2, "end": 6.0, "written": second},
            {"start": 6.2, "end": 6.7, "written": "Merci."}]
    assert [c["text"].replace("\n", " ") for c in caption_cues([{"cues": page}])] == [
        "Premier point.", f"{second} Merci."]
    assert [c["text"].replace("\n", " ") for c in caption_cues([{"cues": page[:1] + page[2:]}])] == [
        "Premier point. Merci."]
    # 7 s together is still one caption (cues last 1 to 7 s, both included)
    caps = caption_cues([{"cues": [{"start": 0.0, "end": 0.5, "written": "Bonjour."},
                                   {"start": 0.7, "end": 7.0, "written": "Voici la suite."}]}])
    assert [(c["start"], c["end"], c["text"]) for c in caps] == [(0.0, 7.0, "Bonjour. Voici la suite.")]


def test_a_short_caption_never_stays_into_the_next_one():
    pages = [{"cues": [{"start": 0.0, "end": 3.0, "written": "Un."}]},
             {"cues": [{"start": 3.2, "end": 3.6, "written": "Deux."}]},  # held up to 1 s, but no later than "Trois."
             {"cues": [{"start": 4.0, "end": 6.0, "written": "Trois."}]}]
    assert [(c["start"], c["end"]) for c in caption_cues(pages)] == [(0.0, 3.0), (3.2, 4.0), (4.0, 6.0)]


def test_a_caption_over_seven_seconds_is_reported_with_its_length(caplog):
    caption_cues([{"cues": [{"start": 0.0, "end": 8.0, "written": "Une phrase dite bien trop lentement."}]}])
    assert "'Une phrase dite bien trop lentement.' lasts 8.0 s (over 7 s)" in caplog.text


def test_every_esante_piece_fits_one_caption_and_its_time():
    guide = load_guide(ESANTE)
    w = ScriptWriter(guide)
    caps = [c for ch in guide.chapters for p in w.chapter(ch) for s in p.segments for c in s.captions()]
    assert len(caps) > 800
    for written, said in caps:
        assert fits_caption(written), written
        assert len(said) <= w.max_spoken + 1, said  # +1: the "." or "," the engine gets at the end


# --- on the real audio ----------------------------------------------------------------------------

@needs_tools
@pytest.mark.e2e
def test_vtt_and_srt_follow_caption_practice(mini_build):
    out = mini_build.out_dir
    for ch in mini_build.manifest["chapters"]:
        vtt = parse_cues((out / ch["transcript"]["vtt"]).read_text("utf-8"))
        srt = parse_cues((out / ch["transcript"]["srt"]).read_text("utf-8"), ",")
        check_practice(vtt, ch["transcript"]["vtt"])
        check_practice(srt, ch["transcript"]["srt"])
        assert [(c["start"], c["end"]) for c in vtt] == [(c["start"], c["end"]) for c in srt]
        assert len(vtt) >= len(ch["pages"])


@needs_tools
@pytest.mark.e2e
def test_cue_boundaries_match_speech_in_the_audio(mini_build):
    """Measured on the encoded chapter MP3: each cue starts where speech starts, and ends where it stops
    (or, for a clip under 1 s, up to 1 s after its start, with the speech's end inside the cue)."""
    out, worst, checked = mini_build.out_dir, 0.0, 0
    for ch in mini_build.manifest["chapters"]:
        starts, ends = speech_bounds(out / ch["mp3"])
        assert len(starts) >= 5 and len(ends) >= 5
        cues = parse_cues((out / ch["transcript"]["vtt"]).read_text("utf-8"))
        # A caption that starts inside a clip starts on a word, not after a silence (test_timing.py measures those)
        inner = {cap["start"] for p in ch["pages"] for c in p["cues"] for cap in c.get("captions", [])[1:]}

        def on_a_word(t: float, inner: set[float] = inner) -> bool:
            return any(abs(t - w) < 0.0015 for w in inner)

        for c in cues:
            if not on_a_word(c["start"]):
                err = min(abs(c["start"] - s) for s in starts)
                assert err <= TOLERANCE_S, (ch["id"], c, "start", err)
                worst = max(worst, err)
                checked += 1
            if on_a_word(c["end"]):
                continue
            err = min(abs(c["end"] - e) for e in ends)
            if err > TOLERANCE_S:  # held on screen for the 1 s minimum: the speech must end inside it
                assert c["end"] - c["start"] <= 1.0 + 1e-6, (ch["id"], c, "end", err)
                assert any(c["start"] < e <= c["end"] for e in ends), (ch["id"], c)
            else:
                worst = max(worst, err)
            checked += 1
    assert checked >= 20
    print(f"cue boundaries: {checked} checked, worst {worst:.3f} s from the measured speech boundary")
