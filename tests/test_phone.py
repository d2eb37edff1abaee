"""Phone line: journeys through the menu model, the dialplan run by a small interpreter, the bundle's audio."""

import functools
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner
from lxml import etree

from audioguide.cli import cli
from audioguide.exceptions import AudioguideError
from audioguide.guide import load_guide
from audioguide.phone.asterisk import dialplan
from audioguide.phone.audio import FORMATS, PHONE_LUFS
from audioguide.phone.menu import SEGMENT_MAX_S, PhoneMenu, build_menu, segment_cues
from audioguide.phone.simulator import Call, load_menu, parse_keys
from audioguide.phone.voicexml import voicexml

from conftest import DATA, ESANTE, needs_tools, settings_for

if "MUTANT_UNDER_TEST" in os.environ:  # script/mutation: only the phone bundle of a kept build is made again
    from phone_builds import mini_build  # noqa: F401  (a fixture, asked for by name)


def journey(source, keys: str) -> list[str]:
    """Run `audioguide phone SOURCE --keys KEYS --mute`; return the ids of what the caller heard."""
    res = CliRunner().invoke(cli, ["phone", str(source), "--keys", keys, "--mute"])
    assert res.exit_code == 0, res.output
    return re.findall(r"^▶ \[([^\]]+)\]", res.output, re.M)


@functools.lru_cache(maxsize=1)
def esante_menu():
    """The e-santé menu run as text (narrating the whole guide takes seconds: once per test run)."""
    return load_menu(ESANTE)[0]


def walk(keys: str, menu=None) -> list[str]:
    """What a caller pressing `keys` hears, through the simulator (`journey` is the same through the CLI)."""
    return Call(menu or esante_menu(), lambda p: None).run(iter(parse_keys(keys)))


def segments(menu, chapter_id: str) -> list[list[str]]:
    """A chapter's pages, each the ids of its segments, as the menu model plays them."""
    return menu.nodes[f"chapter-{chapter_id}"].pages


def flat(pages: list[list[str]]) -> list[str]:
    return [s for page in pages for s in page]


def test_main_part_chapter_next_back_home_repeat():
    menu, _ = load_menu(ESANTE)
    p = segments(menu, "e-sante-et-telesante")
    heard = journey(ESANTE, "t 2 1 6 * # 0")
    assert heard == ["welcome", "menu-main", "menu-part-telesante", p[0][0], p[1][0],
                     "menu-part-telesante", "menu-main", "menu-main"]


def test_a_key_during_the_welcome_acts_at_once_in_the_main_menu():
    """Barge-in: a caller who knows the guide does not sit through the 23 s welcome and the main menu."""
    assert walk("2") == ["welcome", "menu-part-telesante"]
    assert walk("8") == ["welcome", "invalid", "menu-main"]
    assert walk("0 *") == ["welcome", "menu-main", "menu-main"]
    # Let it play out: the main menu follows.
    assert walk("t") == ["welcome", "menu-main"]


def test_pages_play_on_segment_by_segment_then_the_topic_ends():
    menu = esante_menu()
    heard_pages = flat(segments(menu, "dmp"))
    heard = walk("t 3 2" + " t" * len(heard_pages) + " t")
    assert heard == ["welcome", "menu-main", "menu-part-dossier-patient", *heard_pages, "chapter-end",
                     "menu-part-dossier-patient"]
    assert len(heard_pages) > len(segments(menu, "dmp"))  # long pages are cut


def test_previous_again_and_key_help_during_a_page():
    menu = esante_menu()
    p = segments(menu, "teleconsultation")
    heard = walk("t 2 3 4 6 6 4 5 0")
    assert heard == ["welcome", "menu-main", "menu-part-telesante",
                     p[0][0], "first-page", p[0][0], p[1][0], p[2][0], p[1][0], p[1][0], "page-keys", p[1][0]]


def test_help_or_a_wrong_key_during_a_page_resumes_its_segment_not_the_page():
    """Pages last up to 95 s: 0 (help) or a wrong key replays the segment it interrupted; 5 restarts the page."""
    menu = esante_menu()
    p = segments(menu, "teleconsultation")[2]
    assert len(p) >= 3
    heard = walk("t 2 3 6 6 t t 0 8 t 5")
    assert heard[-9:] == [p[0], p[1], p[2], "page-keys", p[2], "invalid", p[2], p[3], p[0]]


def test_the_end_of_a_topic_offers_the_next_one():
    menu = esante_menu()
    end = menu.prompts["chapter-end"].text
    assert end.startswith("Fin du sujet.") and "Pour passer au sujet suivant, tapez 6." in end
    tele = segments(menu, "telesoin")  # the last topic of its part: 6 goes on into the next part
    heard = walk("t 2 9 4" + " 6" * len(tele) + " 6")
    assert heard[-2:] == ["chapter-end", segments(menu, "mon-espace-sante")[0][0]]
    assert menu.nodes["chapter-mon-espace-sante"].parent == "part-dossier-patient"
    # 5 this topic again, 4 its last page, 0 the end again, a wrong key says so, silence: back to its menu.
    keys = "t 2 9 4" + " 6" * len(tele)
    assert walk(keys + " 5")[-2:] == ["chapter-end", tele[0][0]]
    assert walk(keys + " 4")[-2:] == ["chapter-end", tele[-1][0]]
    assert walk(keys + " 0 8 t")[-5:] == ["chapter-end", "chapter-end", "invalid", "chapter-end",
                                                      "menu-part-telesante-2"]
    # The guide's last topic: no next one, so 6 is not offered and is a wrong key there.
    last = segments(menu, "donnees-de-sante")
    assert menu.nodes["chapter-donnees-de-sante"].next is None
    heard = walk("t 5 2" + " 6" * len(last) + " 6")
    assert heard[-3:] == ["guide-end", "invalid", "guide-end"] and "tapez 6" not in menu.prompts["guide-end"].text


def test_time_outs_replay_twice_then_goodbye():
    assert walk("t t t t") == ["welcome", "menu-main", "menu-main", "menu-main", "goodbye"]
    # A key press in between starts the count again.
    assert walk("t t t 0 t t t") == ["welcome"] + ["menu-main"] * 6 + ["goodbye"]


def test_invalid_key_is_said_and_the_menu_replayed():
    assert walk("t 8") == ["welcome", "menu-main", "invalid", "menu-main"]


def test_intro_is_a_chapter_straight_from_the_main_menu():
    guide = load_guide(ESANTE)
    assert walk("t 1 *") == ["welcome", "menu-main", f"{guide.intro.slug}-p01", "menu-main"]


def test_prompts_say_the_keys_and_every_page_has_its_own_prompts():
    menu = esante_menu()
    main = menu.prompts["menu-main"].text
    assert "Pour la télésanté, tapez 2." in main and "Tapez 0" in main
    assert all(k in menu.prompts["welcome"].text.lower() for k in ("tapez 0", "étoile", "dièse", "tapez 6", "4", "5"))
    guide = load_guide(ESANTE)
    chapters = [n for n in menu.nodes.values() if n.kind == "chapter"]
    assert [len(n.pages) for n in chapters] == [len(c.pages) for c in guide.chapters]
    assert sum(1 for p in menu.prompts.values() if p.kind == "page") == sum(len(flat(n.pages)) for n in chapters)
    # Page text is the narration itself, without the chapter's end cue (the phone says its own).
    dmp = segments(menu, "dmp")
    assert menu.prompts[dmp[0][0]].text.startswith("Sujet deux : ")
    assert all("Fin du sujet" not in menu.prompts[s].text for s in dmp[-1])


def test_segments_are_cut_between_sentences_and_stay_short():
    cues = [{"start": 3.0 * i, "end": 3.0 * i + 2.5, "text": f"s{i}", "cont": i % 3 == 0} for i in range(30)]
    groups = segment_cues(cues)
    assert [c for g in groups for c in g] == cues and len(groups) > 1
    for g in groups:
        assert g[-1]["end"] - g[0]["start"] <= SEGMENT_MAX_S
        assert not g[-1]["cont"] or g is groups[-1]  # a sentence is never split across two segments
    assert segment_cues(cues[:2]) == [cues[:2]]
    # No cut right after what leads into the next sentence: "Attention :" is said with what it announces.
    plain = [dict(c, kind="sentence", cont=False) for c in cues[:10]]
    assert [len(g) for g in segment_cues(plain)] == [6, 4]
    plain[5]["kind"] = "callout"
    assert [len(g) for g in segment_cues(plain)] == [7, 3]
    plain[5]["kind"], plain[5]["text"] = "paragraph", "Dix-huit professions :"
    assert [len(g) for g in segment_cues(plain)] == [7, 3]
    # One sentence longer than the limit stays whole.
    long = [{"start": 0, "end": 25, "text": "x", "cont": False}, {"start": 26, "end": 27, "text": "y"}]
    assert segment_cues(long) == [long[:1], long[1:]]


def eleven_chapters(tmp_path):
    chapters = "".join(f"""
      - id: c{i}
        title: Sujet {i}
        pages:
          - id: p
            title: Page
            blocks: [p: Texte {i}.]""" for i in range(1, 12))
    (tmp_path / "guide.yaml").write_text(f"""id: long
title: Long
publisher: Test
description: Beaucoup de sujets.
date: 2024-01-01
chapters:{chapters.replace(chr(10) + "  ", chr(10))}
""")
    return load_guide(tmp_path)


def test_long_menus_are_split_into_screens_of_four_with_9_for_more(tmp_path):
    menu = build_menu(eleven_chapters(tmp_path))
    first = menu.nodes["main"]
    assert [i.key for i in first.items] == list("12349") and first.items[-1].target == "main-2"
    assert "Pour la suite, tapez 9." in menu.prompts["menu-main"].text
    assert [i.target for i in menu.nodes["main-3"].items] == ["chapter-c9", "chapter-c10", "chapter-c11"]
    assert menu.prompts["menu-main-2"].text.startswith("Menu principal, suite. Pour le sujet Sujet 5, tapez 1.")
    heard = Call(menu, lambda p: None).run(iter(parse_keys("t 9 9 3 *")))
    assert heard == ["welcome", "menu-main", "menu-main-2", "menu-main-3", "11-c11-p01", "menu-main-3"]


def said_choices(text: str) -> list[str]:
    return re.findall(r"tapez ([1-9])\b", text)


def test_every_menu_says_at_most_five_choices(tmp_path):
    for menu in (esante_menu(), build_menu(eleven_chapters(tmp_path))):
        for node in menu.nodes.values():
            if node.kind == "menu":
                said = said_choices(menu.prompts[node.prompt].text)
                assert said == [i.key for i in node.items] and len(said) <= 5, (node.id, said)
    tele = esante_menu()
    assert [len(tele.nodes[n].items) for n in ("part-telesante", "part-telesante-2")] == [5, 4]


MENU_MAX_S = 24.0  # measured with espeak-ng: 22.8 s at most (5 choices); the 8-topic Télésanté menu took 30.6 s


@needs_tools
def test_menus_are_short_when_spoken(tmp_path):
    """Every menu prompt of the e-santé guide, said by espeak-ng as a build says it, measured from the audio."""
    from audioguide.build import make_speaker

    guide = load_guide(ESANTE)
    speaker = make_speaker(guide, settings_for(tmp_path))
    menu = build_menu(guide)
    durations = {}
    for node in menu.nodes.values():
        if node.kind == "menu":
            wav = tmp_path / f"{node.prompt}.wav"
            speaker.render(speaker.prompt_clips(menu.prompts[node.prompt].text), wav)
            durations[node.id] = _stream(wav)[3]
    assert len(durations) == 6 and all(d > 5 for d in durations.values()), durations
    assert max(durations.values()) <= MENU_MAX_S, durations


def test_a_title_is_said_with_a_determiner_in_a_menu(tmp_path):
    """No "Pour introduction" or "Pour droits": a title without a determiner goes after its level's name."""
    main = build_menu(load_guide(DATA / "mini")).prompts["menu-main"].text
    assert "Pour l'introduction, tapez 1. Pour le DMP, tapez 2." in main
    guide = eleven_chapters(tmp_path)
    guide.chapters[0].title = "Droits"
    guide.chapters[1].title = "Les aides"
    main = build_menu(guide).prompts["menu-main"].text
    assert "Pour le sujet Droits, tapez 1. Pour les aides, tapez 2." in main


def test_bad_keys_are_refused_with_a_fix():
    res = CliRunner().invoke(cli, ["phone", str(ESANTE), "--keys", "1 x", "--mute"])
    assert res.exit_code != 0 and "Unknown key" in res.output and "Fix:" in res.output
    assert "Traceback" not in res.output


# --- the dialplan, run -----------------------------------------------------------------------------

def parse_dialplan(text: str) -> dict[str, dict[str, list[tuple[str | None, str]]]]:
    """context -> extension -> [(label, application(args))] for the subset of syntax we generate."""
    contexts: dict = {}
    ctx = ext = None
    for line in text.splitlines():
        line = line.split(";", 1)[0].rstrip()
        if not line:
            continue
        if m := re.fullmatch(r"\[([^\]]+)\]", line):
            ctx = contexts.setdefault(m.group(1), {})
        elif m := re.fullmatch(r"exten => ([^,]+),1,(.+)", line):
            ext = m.group(1)
            assert ext not in ctx, f"duplicate extension {ext}"
            ctx[ext] = [(None, m.group(2))]
        elif m := re.fullmatch(r" same => n(?:\((\w+)\))?,(.+)", line):
            ctx[ext].append((m.group(1), m.group(2)))
        else:
            raise AssertionError(f"unexpected dialplan line: {line!r}")
    return contexts


def run_dialplan(contexts, start: str, keys: list[str], sound_prefix: str) -> list[str]:
    """Interpret Answer/Wait/Set/Playback/Background/WaitExten/Goto/GotoIf/Hangup the way Asterisk does, with
    one key (or 't') consumed per Background: a key jumps to its extension in the context (or `i`) at once;
    't' lets it play out, and a WaitExten right after it then times out to `t`."""
    heard, var = [], {}
    keys = iter(keys)
    ctx, ext, pri = start, "s", 0
    timed_out = False

    def expand(s: str) -> str:
        s = re.sub(r"\$\{(\w+)\}", lambda m: var.get(m.group(1), ""), s)
        return re.sub(r"\$\[([^\]]+)\]", lambda m: str(int(eval(m.group(1)))), s)  # noqa: S307 - test only

    def goto(target: str):
        parts = target.split(",")
        if len(parts) == 3:
            return parts[0], parts[1], parts[2] if parts[2] != "1" else 0
        if len(parts) == 2:
            return ctx, parts[0], parts[1]
        return ctx, ext, parts[0]

    for _ in range(10_000):
        steps = contexts[ctx][ext]
        if not isinstance(pri, int):  # a label or a priority number
            pri = int(pri) - 1 if pri.isdigit() else next(i for i, (lab, _) in enumerate(steps) if lab == pri)
        if pri >= len(steps):
            return heard
        app, _, args = steps[pri][1].partition("(")
        args = expand(args[:-1])
        pri += 1
        if app == "Answer":
            assert not heard, "Answer() after a sound"
        elif app == "Wait":
            var["__waited"] = args
        elif app == "Set":
            name, _, value = args.partition("=")
            var[name] = value
        elif app in ("Playback", "Background"):
            assert "__waited" in var, "a sound before Wait(): its start is lost on SIP"
            assert args.startswith(sound_prefix + "/"), args
            heard.append(args[len(sound_prefix) + 1:])
            timed_out = False
            if app == "Background":
                key = next(keys, None)
                if key is None:
                    return heard
                if key == "t":
                    timed_out = True
                else:
                    ctx, ext, pri = ctx, key if key in contexts[ctx] else "i", 0
        elif app == "WaitExten":
            if timed_out:
                ctx, ext, pri, timed_out = ctx, "t", 0, False
            else:
                raise AssertionError("WaitExten with no Background before it")
        elif app == "Goto":
            ctx, ext, pri = goto(args)
        elif app == "GotoIf":
            cond, _, targets = args.partition("?")
            if int(cond):
                ctx, ext, pri = goto(targets.split(":")[0])
        elif app == "Hangup":
            return heard
        else:
            raise AssertionError(f"unknown application {app}")
    raise AssertionError("dialplan loops")


JOURNEYS = ["t 2 1 6 * # 0", "t 3 2" + " t" * 30, "t 2 3 4 6 6 4 5 0 * t t t", "t 8 1 t t 6", "t 5 2 # 4 1 6 6 6 *",
            "t t t t", "t 1 9 #", "2 9 4 6 6 6 6 6 5 t 0 8 t", "8 3", "0 2", "t 2 3 6 6 t t 0 8 t 5 t 4 6 4",
            "t 5 2 6 6 6 6 6 0 4 t t 6 8 *", "t 2 9 4 6 6 6 6 6 4 6 6"]


@pytest.mark.parametrize("keys", JOURNEYS)
def test_dialplan_runs_the_same_journeys_as_the_simulator(keys):
    menu = esante_menu()
    k = parse_keys(keys)
    expected = Call(menu, lambda p: None).run(iter(k))
    contexts = parse_dialplan(dialplan(menu))
    assert run_dialplan(contexts, "audioguide-e-sante", k, "audioguide/e-sante") == expected


def test_dialplan_answers_waits_then_lets_the_welcome_be_interrupted():
    menu = esante_menu()
    top = parse_dialplan(dialplan(menu))["audioguide-e-sante"]
    apps = [step.split("(")[0] for _, step in top["s"]]
    assert apps[:2] == ["Answer", "Wait"] and "Playback" not in apps
    assert top["s"][apps.index("Background")][1] == "Background(audioguide/e-sante/welcome)"
    assert top["2"] == [(None, "Goto(audioguide-e-sante-main,2,1)")] and "i" in top


def test_dialplan_gotos_all_land():
    menu = esante_menu()
    text = dialplan(menu)
    contexts = parse_dialplan(text)
    targets = re.findall(r"Goto(?:If)?\((?:[^?]*\?)?([\w-]+),([\w#*]+),1\)", text)
    assert any(c.endswith("_end") for c, _ in targets)
    for target, ext in targets:
        assert target in contexts and ext in contexts[target], (target, ext)


# --- VoiceXML ------------------------------------------------------------------------------------------

VX = {"v": "http://www.w3.org/2001/vxml"}


def test_voicexml_grammars_are_in_the_voicexml_namespace():
    """VoiceXML 2.1's schema takes the SRGS grammar elements into its own namespace
    (https://www.w3.org/TR/voicexml21/vxml-grammar-restriction.xsd includes grammar-core.xsd there), so an inline
    <grammar xmlns="http://www.w3.org/2001/06/grammar"> is schema-invalid. Every element must be a VoiceXML one."""
    doc = etree.fromstring(voicexml(esante_menu()))
    assert {el.tag.split("}")[0][1:] for el in doc.iter()} == {VX["v"]}
    assert "http://www.w3.org/2001/06/grammar" not in etree.tostring(doc).decode()
    grammars = doc.xpath("//v:field/v:grammar", namespaces=VX)
    assert grammars and all(g.xpath("v:rule/v:one-of/v:item", namespaces=VX) for g in grammars)


def test_voicexml_hash_is_a_choice_not_the_end_of_input():
    """termchar defaults to '#' (VoiceXML 2.0 §6.3.3): with '#' offered as "main menu", it must be unset."""
    doc = etree.fromstring(voicexml(esante_menu()))
    offered = doc.xpath("//v:choice/@dtmf", namespaces=VX) + doc.xpath("//v:item/text()", namespaces=VX)
    assert "#" in offered
    termchar = doc.xpath("/v:vxml/v:property[@name='termchar']/@value", namespaces=VX)
    assert termchar == [""]
    assert not doc.xpath("//v:property[@name='termchar' and @value!='']", namespaces=VX)


def test_voicexml_help_resumes_the_segment_and_the_end_offers_the_next_topic():
    menu = esante_menu()
    doc = etree.fromstring(voicexml(menu))
    forms = {f.get("id"): f for f in doc.xpath("//v:form", namespaces=VX)}
    node = menu.nodes["chapter-teleconsultation"]
    for i, page in enumerate(node.pages):
        for k, sid in enumerate(page):
            here = forms[f"chapter-teleconsultation_p{i}_s{k}" if k else
                         ("chapter-teleconsultation" if not i else f"chapter-teleconsultation_p{i}")]
            assert here.xpath("v:field/v:prompt/v:audio/@src", namespaces=VX) == [f"sounds/{sid}.wav"]
            # help (0) and a wrong key come back to this very form, so the page goes on from this segment
            assert here.xpath("v:field/v:nomatch/v:goto/@next", namespaces=VX) == [f"#{here.get('id')}"]
            ifs = here.xpath("v:field/v:filled/v:if", namespaces=VX)[0]
            after_help = ifs.xpath("v:elseif[@cond=\"key == '0'\"]/following-sibling::v:goto[1]/@next", namespaces=VX)
            assert after_help == [f"#{here.get('id')}"]
    end = forms["chapter-teleconsultation_end"]
    assert end.xpath("v:field/v:prompt/v:audio/@src", namespaces=VX) == ["sounds/chapter-end.wav"]
    assert end.xpath("v:field/v:filled/v:if/@cond", namespaces=VX) == ["key == '6'"]
    assert end.xpath("v:field/v:filled/v:if/v:goto[1]/@next", namespaces=VX) == ["#chapter-teleexpertise"]
    assert end.xpath("v:field/v:noinput/v:goto/@next", namespaces=VX) == ["#part-telesante"]


# --- the built bundle (real espeak-ng + ffmpeg) ------------------------------------------------------

def _stream(path, raw_format=None):
    cmd = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels:format=duration",
           "-of", "json"]
    if raw_format:
        cmd += ["-f", raw_format, "-ar", "8000", "-ac", "1"]
    info = json.loads(subprocess.run(cmd + [str(path)], capture_output=True, text=True, check=True).stdout)
    s = info["streams"][0]
    return s["codec_name"], int(s["sample_rate"]), int(s["channels"]), float(info["format"]["duration"])


EXPECTED = {"wav": ("pcm_s16le", 8000, None), "sln": ("pcm_s16le", 8000, "s16le"),
            "ulaw": ("pcm_mulaw", 8000, "mulaw"), "alaw": ("pcm_alaw", 8000, "alaw"),
            "g722": ("adpcm_g722", 16000, "g722")}


def test_every_phone_file_has_the_right_format(mini_build):
    phone = mini_build.out_dir / "phone"
    menu = PhoneMenu.from_json((phone / "menu.json").read_text())
    assert set(EXPECTED) == set(FORMATS)
    for pid in menu.prompts:
        durations = []
        for ext, (codec, rate, raw) in EXPECTED.items():
            f = phone / "sounds" / f"{pid}.{ext}"
            got = _stream(f, raw if ext != "g722" else None)
            assert got[:3] == (codec, rate, 1), (f.name, got)
            durations.append(got[3])
        assert max(durations) - min(durations) < 0.05, (pid, durations)
        assert durations[0] > 0.5
    # Pages keep their length from the chapter MP3 (cut, not re-spoken).
    m = json.loads((mini_build.out_dir / "manifest.json").read_text())
    dmp = next(c for c in m["chapters"] if c["id"] == "dmp")
    d1 = _stream(phone / "sounds" / "02-dmp-p01.wav")[3]
    assert abs(d1 - (dmp["pages"][0]["end"] - dmp["pages"][0]["start"])) < 0.05


def test_phone_audio_is_band_limited_and_levelled(mini_build):
    # Pages and prompts play one after another on a call: each file, narrowband and wideband, within 1 LU of
    # the phone target. Every mini page lasts several seconds, so each is measured on its own.
    phone = mini_build.out_dir / "phone" / "sounds"
    prompts = json.loads((phone.parent / "menu.json").read_text())["prompts"]
    assert {p["kind"] for p in prompts} == {"prompt", "page"}
    levels = {}
    for p in prompts:
        for ext in ("wav", "g722"):
            out = subprocess.run(["ffmpeg", "-nostats", "-i", str(phone / f"{p['id']}.{ext}"), "-af",
                                  "ebur128=peak=sample", "-f", "null", "-"], capture_output=True, text=True).stderr
            peak = re.search(r"Peak:\s+(-?[\d.]+) dBFS", out[out.rfind("Summary:"):]).group(1)
            levels[f"{p['id']}.{ext}"] = (_lufs(out), float(peak))
    # The limiter holds the 8 kHz files at −3.1 dBFS; G.722's coder can overshoot it (−2.5 at worst on e-santé).
    ceiling = {"wav": -2.5, "g722": -2.0}
    off = {f: v for f, v in levels.items()
           if not (abs(v[0] - PHONE_LUFS) <= 1 and v[1] <= ceiling[f.rsplit(".", 1)[1]])}
    assert not off, off
    wav = phone / "02-dmp-p01.wav"
    # Below the 300 Hz edge the narrowband file is at least 6 dB under the wideband one made from the same
    # audio (the 8 kHz rate itself bounds the top).
    band = "lowpass=f=200,lowpass=f=200"
    narrow, wide = _lufs(_meter(wav, f"aresample=16000,{band}")), _lufs(_meter(wav.with_suffix(".g722"), band))
    assert narrow < wide - 6, (narrow, wide)


def _meter(path, af: str) -> str:
    return subprocess.run(["ffmpeg", "-nostats", "-i", str(path), "-af", f"{af},ebur128", "-f", "null", "-"],
                          capture_output=True, text=True).stderr


def _lufs(ffmpeg_stderr: str) -> float:
    value = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", ffmpeg_stderr[ffmpeg_stderr.rfind("Summary:"):]).group(1)
    return -99.0 if value == "-inf" else float(value)


def test_dialplan_and_voicexml_reference_only_files_in_the_bundle(mini_build):
    phone = mini_build.out_dir / "phone"
    conf = (phone / "extensions.conf").read_text()
    refs = re.findall(r"(?:Playback|Background)\(audioguide/mini/([^)]+)\)", conf)
    assert refs and len(set(refs)) == len(json.loads((phone / "menu.json").read_text())["prompts"])
    for name in refs:
        for ext in FORMATS:
            assert (phone / "sounds" / f"{name}.{ext}").is_file(), f"{name}.{ext}"
    doc = etree.parse(str(phone / "guide.vxml"))
    ns = {"v": "http://www.w3.org/2001/vxml"}
    assert doc.getroot().get("version") == "2.1"
    srcs = doc.xpath("//v:audio/@src", namespaces=ns)
    assert srcs and all((phone / s).is_file() for s in srcs)
    ids = set(doc.xpath("//@id"))
    for target in doc.xpath("//@next", namespaces=ns):
        assert target.startswith("#") and target[1:] in ids, target
    readme = (phone / "README.md").read_text()
    assert "/usr/share/asterisk/sounds/fr/audioguide/mini" in readme and "#include" in readme


def test_simulator_reads_the_built_bundle(mini_build):
    from_output = journey(mini_build.out_dir, "t 2 t t t")
    assert from_output == journey(DATA / "mini", "t 2 t t t")
    # One part: the main menu lists its chapters. The last one ends the guide.
    assert from_output == ["welcome", "menu-main", "02-dmp-p01", "02-dmp-p02", "guide-end", "menu-main"]


@pytest.mark.french
def test_keys_typed_live_enter_waits_and_q_hangs_up():
    # Q (Caps Lock on) hangs up too, and the keys typed after it are never played.
    res = CliRunner().invoke(cli, ["phone", str(ESANTE), "--mute"], input="x\n\n2\n\nQ\n1\n")
    assert res.exit_code == 0, res.output
    heard = re.findall(r"▶ \[([^\]]+)\]", res.output)
    assert heard == ["welcome", "menu-main", "menu-part-telesante", "menu-part-telesante"]
    assert "touches possibles" in res.output and "fin de l'appel" in res.output


def test_a_hostile_title_cannot_reach_the_dialplan(tmp_path):
    # check refuses line breaks in a title (test_hostile); the dialplan must still hold on its own.
    guide = load_guide(DATA / "mini")
    guide.title = "Essai\nexten => s,1,System(rm -rf /)\r\n[autre]"
    text = dialplan(build_menu(guide))
    statements = [line for line in text.splitlines() if line and not line.startswith(";")]
    assert not any("System" in line or line == "[autre]" for line in statements)
    parse_dialplan(text)  # every line is one the generator means


def test_the_end_cue_is_not_on_phone_pages(mini_build):
    """The chapter MP3 ends with "Fin du sujet."; the phone says its own end of chapter and goes back to the menu,
    so the phone's last page has neither that text nor its audio."""
    from audioguide.publishers.phone import page_cues, page_spans

    m = mini_build.manifest
    sounds = mini_build.out_dir / "phone" / "sounds"
    texts = {k: "\n".join(c["text"] for c in v) for k, v in page_cues(m).items()}
    for n, ch in enumerate(m["chapters"], 1):
        last = ch["pages"][-1]
        k = next(i for i, c in enumerate(last["cues"]) if c["kind"] == "cue")  # the end cue: one clip a sentence
        end_cue, before = last["cues"][k], last["cues"][k - 1]
        assert end_cue["text"].startswith("Fin d") and all(c["kind"] == "cue" for c in last["cues"][k:])
        said = texts[(ch["id"], last["id"])]
        assert "Fin d" not in said and said.endswith(before["text"])  # ...not on the phone
        start, end = page_spans(ch)[-1]
        assert start == last["start"] and before["end"] < end < end_cue["start"], (end, before, end_cue)
        wav = sounds / f"{n:02d}-{ch['id']}-p{len(ch['pages']):02d}.wav"
        assert _stream(wav)[3] == pytest.approx(end - start, abs=0.05)  # the cut audio stops before the cue
        assert _stream(wav)[3] < last["end"] - last["start"] - 1.0
    assert m["chapters"][0]["pages"][-1]["cues"][-1]["text"] == "Fin de l'introduction."


def test_home_gives_a_caller_the_same_two_replays_before_goodbye():
    assert walk("1 # t t t t") == ["welcome", "01-introduction-p01", "menu-main", "menu-main", "menu-main", "goodbye"]


def test_the_phone_folder_itself_can_be_simulated_and_menu_json_is_readable(tmp_path):
    """`audioguide phone out/phone` works as `audioguide phone out`; menu.json, for whoever wires another voice
    server, lists the keys and keeps one entry a line."""
    text = esante_menu().to_json()
    (tmp_path / "menu.json").write_text(text, "utf-8")
    menu, sounds = load_menu(tmp_path)
    assert sounds == tmp_path / "sounds" and menu.to_json() == text
    data = json.loads(text)
    assert data["keys"] == {"repeat": "0", "back": "*", "home": "#", "previous_page": "4", "again": "5",
                            "next_page": "6", "more": "9", "max_timeouts": 2}
    assert text.startswith('{\n "') and text.count("\n") > 100


def test_an_old_menu_json_is_refused_with_its_format_and_the_fix(tmp_path):
    (tmp_path / "phone").mkdir()
    (tmp_path / "phone" / "menu.json").write_text('{"format": 1}', "utf-8")
    with pytest.raises(AudioguideError) as err:
        load_menu(tmp_path)
    assert "format 1, expected 2" in str(err.value) and "menu.json" in str(err.value)
    assert "audioguide build" in err.value.fix


def test_the_dialplan_names_its_guide_on_one_line():
    menu = PhoneMenu.from_json(esante_menu().to_json())  # a copy: esante_menu() is shared
    menu.title = "Se repérer\ndans la e-santé"
    assert dialplan(menu).splitlines()[0].startswith("; Audio guide « Se repérer dans la e-santé » — generated")


@needs_tools
def test_the_simulator_player_plays_a_prompt_without_printing(tmp_path):
    """`audioguide phone` plays each sound with this command: it must play a WAV to its end and keep the terminal
    for the caller's journey (SDL's dummy audio stands in for a sound card)."""
    from audioguide.phone.simulator import player
    cmd = player()
    if cmd is None or cmd[0] != "ffplay":
        pytest.skip("ffplay is not installed")
    wav = tmp_path / "prompt.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=0.2", str(wav)], check=True)
    proc = subprocess.run([*cmd, str(wav)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SDL_AUDIODRIVER": "dummy"})
    assert proc.returncode == 0 and not (proc.stdout + proc.stderr).strip()


def test_without_ffplay_the_simulator_plays_through_a_quiet_aplay(tmp_path, monkeypatch):
    """On a system with ALSA's aplay and no ffplay, `audioguide phone` plays each sound with aplay, quiet: its
    "Playing WAVE…" line must not break into the caller's journey. The stand-in aplay reads its options as aplay
    does (getopt: an unknown option is an error) and says what it plays unless -q."""
    from audioguide.phone.simulator import player

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aplay = bin_dir / "aplay"
    aplay.write_text(f"""#!{sys.executable}
import getopt, sys
try:
    opts, args = getopt.gnu_getopt(sys.argv[1:], "hqt:c:f:r:d:s:MNF:A:R:T:B:vVIPC:D:lL")
except getopt.GetoptError as exc:
    sys.exit(f"aplay: {{exc}}")
if ("-q", "") not in opts:
    print(f"Playing WAVE '{{args[0]}}' : Signed 16 bit Little Endian, Rate 8000 Hz, Mono", file=sys.stderr)
""")
    aplay.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    cmd = player()
    assert cmd is not None and cmd[0] == "aplay"
    proc = subprocess.run([*cmd, str(tmp_path / "prompt.wav")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not (proc.stdout + proc.stderr).strip(), proc.stderr


def test_prompts_agree_with_a_masculine_page_noun(tmp_path):
    """A guide whose pages are "modules" hears "le module suivant", "le précédent", not a feminine form."""
    guide = tmp_path / "g"
    shutil.copytree(DATA / "mini", guide)
    yml = guide / "guide.yaml"
    yml.write_text(yml.read_text("utf-8").replace("language: fr-FR\n", "language: fr-FR\nlevels: {page: module}\n"),
                   "utf-8")
    prompts = build_menu(load_guide(guide)).prompts
    assert "tapez 6 pour passer au module suivant, 4 pour revenir au précédent, et 5 pour le" in prompts["welcome"].text
    assert prompts["page-keys"].text.startswith("Tapez 6 pour le module suivant, 4 pour le précédent, 5 pour le ")


def test_a_guide_tried_as_text_has_its_long_pages_cut_into_segments():
    """`audioguide phone guides/x` (no build) times each sentence by an estimate: a long page is still cut, so a
    help key replays the segment it interrupted there too, as on the built line."""
    pages = [page for node in esante_menu().nodes.values() if node.kind == "chapter" for page in node.pages]
    assert sum(len(page) > 1 for page in pages) >= 5


def test_a_title_with_its_own_elided_article_is_said_as_written(tmp_path):
    """"L’Assurance maladie" (typographic apostrophe, as Word writes it) already has its article: the menu says
    "Pour l’Assurance maladie", not "Pour le sujet L’Assurance maladie"."""
    guide = tmp_path / "g"
    shutil.copytree(DATA / "mini", guide)
    yml = guide / "guide.yaml"
    yml.write_text(yml.read_text("utf-8").replace("title: Le DMP\n", "title: L’Assurance maladie\n"), "utf-8")
    said = " ".join(p.text for p in build_menu(load_guide(guide)).prompts.values() if p.id.startswith("menu-"))
    assert "Pour l’Assurance maladie, tapez" in said and "L’Assurance" not in said


def test_menu_json_names_each_topic_and_the_more_choice(tmp_path):
    """menu.json, read by whoever wires another voice server or screen: every topic with its title, and 9 on a
    split menu labelled as what it opens."""
    data = json.loads(build_menu(eleven_chapters(tmp_path)).to_json())
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["chapter-c9"]["title"] == "Sujet 9" and nodes["chapter-c11"]["title"] == "Sujet 11"
    assert nodes["main"]["title"] == data["title"] and nodes["main"]["kind"] == "menu"
    assert {n["kind"] for n in data["nodes"] if n["id"].startswith("chapter-")} == {"chapter"}
    assert {"key": "9", "label": "Suite du menu", "target": "main-2"} in nodes["main"]["items"]
    kinds = [n["kind"] for n in data["nodes"]]  # read top down: the main menu, the other menus, then the topics
    assert data["nodes"][0]["id"] == "main" and kinds == sorted(kinds, key=lambda k: k != "menu")


def test_a_page_tried_as_text_shows_its_sentences_one_a_line():
    res = CliRunner().invoke(cli, ["phone", str(DATA / "mini"), "--keys", "1", "--mute"])
    assert ("▶ [01-introduction-p01] Introduction.\n    Bienvenue\n    Bienvenue dans ce guide d'essai.\n"
            "    Il dure moins d'une minute.\n☎") in res.output


def test_every_submenu_ends_by_saying_how_to_go_back():
    prompts = esante_menu().prompts
    subs = [p.text for pid, p in prompts.items() if pid.startswith("menu-") and not pid.startswith("menu-main")]
    assert len(subs) >= 3 and all(t.endswith("Tapez étoile pour revenir, 0 pour réécouter.") for t in subs)
    assert prompts["menu-main"].text.endswith(". Tapez 0 pour réécouter.")


def run_voicexml(doc, keys: list[str]) -> list[tuple[str, str]]:
    """Interpret the document as a VoiceXML 2.1 platform does, for the elements the publisher writes, with the
    simulator's model of a caller: one key (or 't') per field's or menu's own prompt, a key interrupting it and
    going to its grammar, 't' letting it play out to the time-out (noinput); prompts queued by a key's answer
    (help, a wrong key, the first page) play whole, the welcome excepted (a key during it reaches the main
    menu). Returns (sound id, time-out that follows it) for each audio heard; the time-out a field does not
    set is the document's."""
    v = "{http://www.w3.org/2001/vxml}"
    by_id = {e.get("id"): e for e in doc if e.get("id")}
    document_timeout = doc.find(f"{v}property[@name='timeout']").get("value")
    heard: list[tuple[str, str]] = []
    keys = iter(keys)

    def play(queued, own, wait: str, interruptible: bool) -> str | None:
        """The queued prompts then the element's own; the key pressed, or None once all played out."""
        for p in queued + own:
            for a in p.iter(f"{v}audio"):
                heard.append((a.get("src").removeprefix("sounds/").removesuffix(".wav"), wait))
                if (p in own or interruptible) and p.get("bargein", "true") == "true":
                    key = next(keys, None)
                    if key is None:
                        raise StopIteration
                    if key != "t":
                        return key
        return None

    def goto(el) -> str:
        target = el.get("next")
        assert target and target.startswith("#") and target[1:] in by_id, etree.tostring(el)
        return target[1:]

    queue: list = []
    current, welcome = "start", True
    try:
        for _ in range(10_000):
            el = by_id[current]
            block = el.find(f"{v}block")
            if block is not None:
                queue += block.findall(f"{v}prompt")
                if block.find(f"{v}exit") is not None:
                    play(queue, [], "", False)
                    return heard
                current = goto(block.find(f"{v}goto"))
                continue
            if el.tag == f"{v}menu":
                noinputs = 0  # VoiceXML counts a menu's time-outs from the time it is entered
                while True:
                    key = play(queue, el.findall(f"{v}prompt"), document_timeout, welcome)
                    queue, welcome = [], False
                    if key is None:
                        noinputs += 1
                        handler = max((h for h in el.findall(f"{v}noinput") if int(h.get("count", "1")) <= noinputs),
                                      key=lambda h: int(h.get("count", "1")))
                        if handler.find(f"{v}goto") is not None:
                            current = goto(handler.find(f"{v}goto"))
                            break
                        assert handler.find(f"{v}reprompt") is not None
                        continue
                    choice = next((c for c in el.findall(f"{v}choice") if c.get("dtmf") == key), None)
                    if choice is not None:
                        current = goto(choice)
                        break
                    nomatch = el.find(f"{v}nomatch")
                    assert nomatch.find(f"{v}reprompt") is not None
                    queue += nomatch.findall(f"{v}prompt")
                continue
            field = el.find(f"{v}field")
            prop = field.find(f"{v}property[@name='timeout']")
            key = play(queue, field.findall(f"{v}prompt"), document_timeout if prop is None else prop.get("value"),
                       False)
            queue = []
            if key is None:
                current = goto(field.find(f"{v}noinput/{v}goto"))
                continue
            if key not in field.xpath("v:grammar/v:rule/v:one-of/v:item/text()", namespaces=VX):
                nomatch = field.find(f"{v}nomatch")
                queue += nomatch.findall(f"{v}prompt")
                current = goto(nomatch.find(f"{v}goto"))
                continue
            iff = field.find(f"{v}filled/{v}if")
            # an <if>'s branches: its own content up to the first <elseif>, then each <elseif>'s following siblings
            branches, cond, steps = [], iff.get("cond"), []
            for child in iff:
                if child.tag == f"{v}elseif":
                    branches.append((cond, steps))
                    cond, steps = child.get("cond"), []
                else:
                    steps.append(child)
            branches.append((cond, steps))
            # the conditions name the field's own variable, or the platform raises error.semantic
            steps = next(steps for cond, steps in branches if cond == f"{field.get('name')} == '{key}'")
            queue += [s for s in steps if s.tag == f"{v}prompt"]
            current = goto(next(s for s in steps if s.tag == f"{v}goto"))
    except StopIteration:
        return heard
    raise AssertionError("the VoiceXML document loops")

@pytest.mark.parametrize("keys", JOURNEYS)
def test_a_voicexml_platform_plays_the_same_journeys_as_the_simulator(keys):
    """Walked as a VoiceXML platform walks it, the document plays what the simulator plays for the same keys;
    between two segments of a page it waits next to nothing, after a page a short pause, in a menu the
    menu's time-out."""
    from audioguide.phone.voicexml import PAGE_WAIT, SEGMENT_WAIT

    menu = esante_menu()
    k = parse_keys(keys)
    expected = Call(menu, lambda p: None).run(iter(k))
    heard = run_voicexml(etree.fromstring(voicexml(menu)), k)
    assert [sid for sid, _ in heard] == expected
    segment_of = {sid: (page, k == len(p) - 1) for n in menu.nodes.values() for page, p in enumerate(n.pages)
                  for k, sid in enumerate(p)}
    for sid, wait in heard:
        if sid in segment_of:
            assert wait == (PAGE_WAIT if segment_of[sid][1] else SEGMENT_WAIT), (sid, wait)


def test_the_voicexml_file_is_utf8_french_and_only_the_goodbye_plays_whole():
    """A platform or an administrator opening guide.vxml reads UTF-8 French as written; every prompt can be
    interrupted by a key except the goodbye, which plays whole before the call ends."""
    menu = esante_menu()
    data = voicexml(menu)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    assert menu.prompts["welcome"].text.encode("utf-8") in data and "é" in menu.prompts["welcome"].text
    doc = etree.fromstring(data)
    assert doc.xpath("//v:form[@id='goodbye']/v:block/v:prompt/@bargein", namespaces=VX) == ["false"]
    others = doc.xpath("//v:prompt[not(ancestor::v:form[@id='goodbye'])]/@bargein", namespaces=VX)
    assert others and set(others) == {"true"} and len(others) == len(doc.xpath("//v:prompt", namespaces=VX)) - 1
