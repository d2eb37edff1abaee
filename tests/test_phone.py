"""Phone line: journeys through the menu model, the dialplan run by a small interpreter, the bundle's audio."""

import json
import re
import subprocess

import pytest
from click.testing import CliRunner
from lxml import etree

from audioguide.cli import cli
from audioguide.guide import load_guide
from audioguide.phone.asterisk import dialplan
from audioguide.phone.audio import FORMATS
from audioguide.phone.menu import PhoneMenu, build_menu
from audioguide.phone.simulator import Call, load_menu, parse_keys
from conftest import DATA, ESANTE

TC = "02-e-sante-et-telesante"  # first chapter of the télésanté part


def journey(source, keys: str) -> list[str]:
    """Run `audioguide phone SOURCE --keys KEYS --mute`; return the ids of what the caller heard."""
    res = CliRunner().invoke(cli, ["phone", str(source), "--keys", keys, "--mute"])
    assert res.exit_code == 0, res.output
    return re.findall(r"^▶ \[([^\]]+)\]", res.output, re.M)


def pages(chapter_slug: str, n: int) -> list[str]:
    return [f"{chapter_slug}-p{i:02d}" for i in range(1, n + 1)]


def test_main_part_chapter_next_back_home_repeat():
    heard = journey(ESANTE, "2 1 6 * # 0")
    assert heard == ["welcome", "menu-main", "menu-part-telesante", f"{TC}-p01", f"{TC}-p02",
                     "menu-part-telesante", "menu-main", "menu-main"]


def test_pages_play_on_then_chapter_ends_back_in_its_menu():
    guide = load_guide(ESANTE)
    ch = guide.chapter("dmp")
    n = len(ch.pages)
    heard = journey(ESANTE, "3 2" + " t" * n)
    assert heard == ["welcome", "menu-main", "menu-part-dossier-patient", *pages(ch.slug, n), "chapter-end",
                     "menu-part-dossier-patient"]


def test_previous_again_and_key_help_during_a_page():
    slug = load_guide(ESANTE).chapter("teleconsultation").slug
    heard = journey(ESANTE, "2 3 4 6 6 4 5 0")
    p = pages(slug, 3)
    assert heard == ["welcome", "menu-main", "menu-part-telesante",
                     p[0], "first-page", p[0], p[1], p[2], p[1], p[1], "page-keys", p[1]]


def test_time_outs_replay_twice_then_goodbye():
    assert journey(ESANTE, "t t t") == ["welcome", "menu-main", "menu-main", "menu-main", "goodbye"]
    # A key press in between starts the count again.
    assert journey(ESANTE, "t t 0 t t t") == ["welcome"] + ["menu-main"] * 6 + ["goodbye"]


def test_invalid_key_is_said_and_the_menu_replayed():
    assert journey(ESANTE, "8") == ["welcome", "menu-main", "invalid", "menu-main"]


def test_intro_is_a_chapter_straight_from_the_main_menu():
    guide = load_guide(ESANTE)
    assert journey(ESANTE, "1 *") == ["welcome", "menu-main", f"{guide.intro.slug}-p01", "menu-main"]


def test_prompts_say_the_keys_and_every_page_has_its_own_prompt():
    menu, _ = load_menu(ESANTE)
    main = menu.prompts["menu-main"].text
    assert "Pour la télésanté, tapez 2." in main and "tapez 0" in main
    assert all(k in menu.prompts["welcome"].text.lower() for k in ("tapez 0", "étoile", "dièse", "tapez 6", "4", "5"))
    guide = load_guide(ESANTE)
    assert sum(1 for p in menu.prompts.values() if p.kind == "page") == sum(len(c.pages) for c in guide.chapters)
    # Page text is the narration itself, without the chapter's end cue (the phone says its own).
    dmp1 = menu.prompts[f"{guide.chapter('dmp').slug}-p01"].text
    dmp_last = menu.prompts[f"{guide.chapter('dmp').slug}-p{len(guide.chapter('dmp').pages):02d}"].text
    assert dmp1.startswith("Sujet deux : ") and "Fin du sujet" not in dmp_last


def test_long_menus_are_split_with_9_for_more(tmp_path):
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
    menu = build_menu(load_guide(tmp_path))
    first = menu.nodes["main"]
    assert [i.key for i in first.items] == list("123456789") and first.items[-1].target == "main-2"
    assert "Pour la suite du menu, tapez 9." in menu.prompts["menu-main"].text
    assert [i.target for i in menu.nodes["main-2"].items] == ["chapter-c9", "chapter-c10", "chapter-c11"]
    heard = Call(menu, lambda p: None).run(iter(parse_keys("9 3 *")))
    assert heard == ["welcome", "menu-main", "menu-main-2", "11-c11-p01", "menu-main"]


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
    """Interpret Answer/Set/Playback/Background/WaitExten/Goto/GotoIf/Hangup the way Asterisk does,
    with one key (or 't') consumed per Background+WaitExten or per page Background."""
    heard, var = [], {}
    keys = iter(keys)
    ctx, ext, pri = start, "s", 0
    pending = None

    def expand(s: str) -> str:
        s = re.sub(r"\$\{(\w+)\}", lambda m: var.get(m.group(1), ""), s)
        return re.sub(r"\$\[([^\]]+)\]", lambda m: str(int(eval(m.group(1)))), s)  # noqa: S307 - test only

    def goto(target: str):
        parts = target.split(",")
        if len(parts) == 3:
            return parts[0], parts[1], 0
        if len(parts) == 2:
            label_or_pri = parts[1]
            return ctx, parts[0], label_or_pri
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
        if app in ("Answer",):
            continue
        if app == "Set":
            name, _, value = args.partition("=")
            var[name] = value
        elif app in ("Playback", "Background"):
            assert args.startswith(sound_prefix + "/"), args
            heard.append(args[len(sound_prefix) + 1:])
            if app == "Background":
                key = next(keys, None)
                if key is None:
                    return heard
                if key == "t":
                    pending = "t"
                else:
                    ctx, ext, pri = ctx, key if key in contexts[ctx] else "i", 0
        elif app == "WaitExten":
            if pending:
                ctx, ext, pri, pending = ctx, "t", 0, None
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


@pytest.mark.parametrize("keys", ["2 1 6 * # 0", "3 2 t t t t t t t", "2 1 4 6 6 4 5 0 * t t t", "8 1 t t 6",
                                  "5 2 # 4 1 6 6 6 *", "t t t", "1 9 #"])
def test_dialplan_runs_the_same_journeys_as_the_simulator(keys):
    menu, _ = load_menu(ESANTE)
    k = parse_keys(keys)
    expected = Call(menu, lambda p: None).run(iter(k))
    contexts = parse_dialplan(dialplan(menu))
    assert run_dialplan(contexts, "audioguide-e-sante", k, "audioguide/e-sante") == expected


def test_dialplan_gotos_all_land():
    menu, _ = load_menu(ESANTE)
    text = dialplan(menu)
    contexts = parse_dialplan(text)
    for target in re.findall(r"Goto(?:If)?\((?:[^?]*\?)?([\w-]+),s,1\)", text):
        assert target in contexts and "s" in contexts[target], target


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
    wav = mini_build.out_dir / "phone" / "sounds" / "02-dmp-p01.wav"
    out = subprocess.run(["ffmpeg", "-nostats", "-i", str(wav), "-af", "ebur128=peak=sample", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    summary = out[out.rfind("Summary:"):]
    lufs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    assert -22 < lufs < -17 and peak <= -2.5, (lufs, peak)
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
    from_output = journey(mini_build.out_dir, "2 t t")
    assert from_output == journey(DATA / "mini", "2 t t")
    # One part: the main menu lists its chapters.
    assert from_output == ["welcome", "menu-main", "02-dmp-p01", "02-dmp-p02", "chapter-end", "menu-main"]


def test_keys_typed_live_enter_waits_and_q_hangs_up():
    res = CliRunner().invoke(cli, ["phone", str(ESANTE), "--mute"], input="x\n2\n\nq\n")
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
    from audioguide.publishers.phone import page_spans, page_texts

    m = mini_build.manifest
    sounds = mini_build.out_dir / "phone" / "sounds"
    texts = page_texts(m)
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
