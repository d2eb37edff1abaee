"""The kiosk page in Debian's chromium, driven by Playwright: keys, buttons, audio, reload, axe-core audit."""

import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from audioguide.build import build
from audioguide.serve import make_server

from conftest import DATA, ROOT, settings_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM, reason="chromium is installed by script/bootstrap --test")]
ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 30_000  # generous: under a loaded full suite the audio can start seconds late; waits end on a condition
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "wcag2aaa", "best-practice"]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    yield pg
    context.close()


@pytest.fixture(scope="session")
def kiosk_url(mini_build):
    return (mini_build.out_dir / "kiosk" / "index.html").as_uri()


@pytest.fixture(scope="session")
def served(mini_build):
    server = make_server(mini_build.out_dir, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/kiosk/index.html"
    server.shutdown()
    server.server_close()


def audio_state(pg) -> dict:
    return pg.evaluate("""() => { const a = document.getElementById('audio');
        return {src: a.currentSrc, t: a.currentTime, paused: a.paused, rate: a.playbackRate,
                page: document.getElementById('now-page').textContent,
                status: document.getElementById('status').textContent}; }""")


def wait_playing(pg, beyond: float = 0.3) -> dict:
    pg.wait_for_function(f"() => {{ const a = document.getElementById('audio'); "
                         f"return !a.paused && a.currentTime > {beyond}; }}", timeout=WAIT_MS)
    return audio_state(pg)


expect.set_options(timeout=WAIT_MS)  # expect() waits 5 s by default; DOM checks get the same room as the rest


def heading(pg):
    return expect(pg.locator("#menu-heading"))


def test_keys_pick_play_and_move_between_pages(page, kiosk_url, mini_build):
    page.goto(kiosk_url)
    assert page.evaluate("document.documentElement.lang") == "fr"
    page.keyboard.press("2")  # the chapter, as on the phone: a one-part guide's menu lists its chapters
    s = wait_playing(page)
    assert re.search(r"/audio/02-dmp\.[0-9a-f]{12}\.mp3$", s["src"])
    page.locator("#transcript .current").wait_for()
    assert page.evaluate("window.scrollY") == 0  # following the text scrolls its panel, never the page
    page.wait_for_function(f"() => document.getElementById('audio').currentTime > {s['t'] + 0.3}")  # it advances
    page.keyboard.press("6")
    pages = mini_build.manifest["chapters"][1]["pages"]
    s = wait_playing(page, pages[1]["start"])
    assert s["page"] == "Page 2 sur 2 : Attention"
    assert "Page 2 sur 2" in s["status"]  # said through the aria-live region
    page.keyboard.press("4")
    page.wait_for_function(f"() => document.getElementById('audio').currentTime < {pages[1]['start']:f}")
    assert audio_state(page)["page"].startswith("Page 1 sur 2")
    page.keyboard.press(" ")
    page.wait_for_function("() => document.getElementById('audio').paused")
    page.keyboard.press("*")  # back from the chapter to the menu that lists it: the main menu here
    heading(page).to_have_text("Menu principal")
    page.keyboard.press("2")
    page.keyboard.press("#")
    heading(page).to_have_text("Menu principal")
    assert not page.errors


def test_buttons_play_the_right_source_and_transcript_follows(page, kiosk_url):
    page.goto(kiosk_url)
    page.get_by_role("button", name="Introduction").click()
    s = wait_playing(page, 1.0)
    assert re.search(r"/audio/01-introduction\.[0-9a-f]{12}\.mp3$", s["src"])
    current = page.locator("#transcript .current")
    current.wait_for()
    assert current.get_attribute("aria-current") == "true"
    assert current.text_content() in page.locator("#transcript").text_content()
    page.get_by_role("button", name="Plus rapide").click()
    page.get_by_role("button", name="Plus rapide").click()
    assert audio_state(page)["rate"] == 1.5
    page.get_by_role("button", name="Plus rapide").click()
    assert audio_state(page)["rate"] == 1.5  # 1.5× is the top
    page.get_by_role("button", name="Moins fort").click()
    assert page.evaluate("document.getElementById('audio').volume") == pytest.approx(0.9)
    t = audio_state(page)["t"]
    page.get_by_role("button", name="Reculer de 15 secondes").click()
    assert audio_state(page)["t"] < t
    page.get_by_role("button", name="Page suivante").click()  # past the last page: next chapter
    s = wait_playing(page, 0.2)
    assert re.search(r"/audio/02-dmp\.[0-9a-f]{12}\.mp3$", s["src"])
    assert not page.errors


def test_reload_keeps_the_position(page, kiosk_url, mini_build):
    page.goto(kiosk_url)
    page.keyboard.press("2")
    page.keyboard.press("6")
    start2 = mini_build.manifest["chapters"][1]["pages"][1]["start"]
    wait_playing(page, start2 + 0.5)
    page.keyboard.press(" ")
    # `paused` turns true at once, but the position is kept by the pause event's handler, a task later (the
    # same handler that relabels the button): under load, a reload between the two found nothing kept.
    page.wait_for_function("() => document.getElementById('audio').paused && "
                           "document.getElementById('play-label').textContent === 'Écouter'")
    before = audio_state(page)
    page.reload()
    page.wait_for_function("() => document.getElementById('audio').readyState >= 1 && "
                           "document.getElementById('audio').currentTime > 0")
    after = audio_state(page)
    assert after["src"] == before["src"] and abs(after["t"] - before["t"]) < 1.5
    assert after["page"] == before["page"] and after["status"].startswith("Reprise")
    page.keyboard.press(" ")
    assert wait_playing(page, before["t"])["src"] == before["src"]


def test_served_page_plays_and_loads_the_webvtt(page, served):
    page.goto(served)
    page.keyboard.press("1")
    wait_playing(page)
    page.wait_for_function("() => { const t = document.getElementById('audio').textTracks[0];"
                           " return t && t.cues && t.cues.length > 1; }")
    captions = page.evaluate("[...document.getElementById('audio').textTracks[0].cues].map(c => c.text).join(' ')")
    said = "Il dure moins d'une minute."
    assert said in " ".join(captions.split()) and said in page.locator("#transcript").text_content()
    assert not page.errors


def test_axe_finds_no_violations_and_a_screenshot_is_kept(page, kiosk_url):
    import axe_playwright_python

    axe = Path(axe_playwright_python.__file__).with_name("axe.min.js")
    page.goto(kiosk_url)
    page.add_script_tag(path=str(axe))
    results = []
    results.append(page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS))
    page.keyboard.press("2")
    page.keyboard.press("1")
    wait_playing(page)
    page.locator("#transcript .current").wait_for()
    # The e-santé pages are longer than the fixture's: let this one overflow its panel as they do.
    page.add_style_tag(content="#transcript { max-height: 4rem !important; }")
    assert page.evaluate("(t => t.scrollHeight > t.clientHeight)(document.getElementById('transcript'))")
    results.append(page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS))
    assert not audio_state(page)["paused"]  # audited while playing
    for r in results:
        assert r["passes"], "axe ran no check"
        problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in r["violations"]]
        assert problems == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "kiosk.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_controls_are_large(page, kiosk_url):
    page.goto(kiosk_url)
    sizes = page.evaluate("""() => [...document.querySelectorAll('button')].filter(b => b.offsetParent)
        .map(b => [b.textContent.trim(), b.getBoundingClientRect().width, b.getBoundingClientRect().height])""")
    assert sizes
    for label, w, h in sizes:
        assert w >= 60 and h >= 60, (label, w, h)  # well over WCAG 2.2's 24 px target minimum


HOSTILE = ("<script>window.__pwned=1</script> & \"guillemets\" 'apostrophes' \u202eאבג\u200b "
           "<img src=x onerror=window.__pwned=2>")


def test_hostile_text_stays_inert_in_kiosk_and_feed(page, tmp_path, mini_guide):
    import feedparser
    from lxml import etree

    g = mini_guide / "guide.yaml"
    text = g.read_text().replace('title: "Guide d\'essai & <test>"', "title: " + _yaml_str(HOSTILE))
    text = text.replace("title: Le DMP", "title: " + _yaml_str("DMP " + HOSTILE))
    text = text.replace("- p: Le DMP est un carnet de santé numérique.", "- p: " + _yaml_str("Texte " + HOSTILE))
    # The footer: publisher and rights are markup too.
    text = text.replace("publisher: Association Test", "publisher: " + _yaml_str("Asso " + HOSTILE))
    text = text.replace("rights: CC BY 4.0", "rights: " + _yaml_str("Droits " + HOSTILE))
    g.write_text(text)
    out = build(mini_guide, settings_for(tmp_path, engine="silence")).out_dir
    page.goto((out / "kiosk" / "index.html").as_uri())
    page.keyboard.press("2")
    page.keyboard.press("1")
    expect(page.locator("#now-chapter")).to_have_text("DMP " + HOSTILE)  # the chapter has been put on the page
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.locator("h1").text_content() == HOSTILE
    assert page.locator("footer").text_content().strip() == f"Asso {HOSTILE} · Droits {HOSTILE} · version 1.0"
    feed = (out / "feed.xml").read_bytes()
    root = etree.fromstring(feed)  # well-formed XML
    assert root.find("channel/title").text == HOSTILE
    parsed = feedparser.parse(feed)
    assert not parsed.bozo and len(parsed.entries) == 3  # 2 chapters, then the whole guide
    vxml = etree.parse(str(out / "phone" / "guide.vxml"))
    assert vxml.getroot().tag.endswith("vxml")


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\u202e", "\\u202E").replace(
        "\u200b", "\\u200B") + '"'



# --- read-along: the written text, following the audio --------------------------------------------

def sentences_of(pg) -> list[dict]:
    """The timed sentences the panel shows, as the page's data gives them: text, start, until."""
    return pg.evaluate("""() => [...document.querySelectorAll('#transcript [data-start]')].map(el =>
        ({text: el.textContent, start: +el.dataset.start, end: +el.dataset.end}))""")


def test_read_along_shows_the_written_sentence_as_it_is_spoken(page, kiosk_url, mini_build):
    page.goto(kiosk_url)
    page.keyboard.press("2")
    page.keyboard.press("1")
    wait_playing(page)
    panel = page.locator("#transcript").text_content()
    assert "Le DMP est un carnet de santé numérique." in panel and "D.M.P." not in panel
    # Each sentence, wherever the audio is in it, is the one marked: seeked, so no wait on the clock.
    page.evaluate("audio.pause()")
    said = sentences_of(page)
    assert [s["text"] for s in said] == ["Le DMP est un carnet de santé numérique.", "ordonnances,",
                                         "comptes-rendus."]
    for s in said:
        for t in (s["start"] + 0.02, (s["start"] + s["end"]) / 2, s["end"] - 0.02):
            assert shown_at(page, t)["text"] == s["text"], t
    # While it plays, the mark follows the voice on its own: from the first sentence to the next.
    page.evaluate(f"audio.currentTime = {said[0]['start'] + 0.05}")
    page.evaluate("audio.play()")
    page.wait_for_function("t => (document.querySelector('#transcript .current') || {}).textContent === t",
                           arg=said[1]["text"])
    page.keyboard.press("6")
    page.wait_for_function("() => document.getElementById('transcript').textContent.includes('www.ameli.fr')")
    panel = page.locator("#transcript").text_content()
    # addresses and numbers as written, so they can be copied down
    assert "www.ameli.fr/assure" in panel and "Appelez le 15 en cas d'urgence." in panel
    assert "point f r" not in panel and "quinze" not in panel
    assert not page.errors


def test_read_along_shows_paragraphs_and_the_title_as_written(page, kiosk_url):
    """Paragraphs, not caption lines: the two sentences of the welcome are one paragraph on one run of lines,
    the page title is the guide's, a list is a list."""
    page.goto(kiosk_url)
    page.keyboard.press("1")
    wait_playing(page)
    paragraphs = page.locator("#transcript p")
    expect(paragraphs).to_have_count(1)
    assert paragraphs.inner_text() == "Bienvenue dans ce guide d'essai. Il dure moins d'une minute."
    page.keyboard.press("#")
    page.keyboard.press("2")
    expect(page.locator("#now-page")).to_have_text("Page 1 sur 2 : Qu'est-ce que c'est ?")
    assert "qu'est-ce" not in page.locator("#transcript-section").inner_text()  # the narration's lowercase
    assert page.locator("#transcript li").all_inner_texts() == ["ordonnances,", "comptes-rendus."]
    assert not page.errors


@pytest.fixture(scope="session")
def three_chapters(mini_build, tmp_path_factory):
    """The fixture guide with a third chapter: the DMP's end cue is then "Fin du sujet." alone, short enough
    that its caption joins the one before. Same clip cache as mini_build: only the new clips are spoken."""
    tmp = tmp_path_factory.mktemp("three")
    shutil.copytree(DATA / "mini", tmp / "mini")
    g = tmp / "mini" / "guide.yaml"
    g.write_text(g.read_text("utf-8") + """      - id: fin
        title: Pour finir
        pages:
          - id: contact
            title: Contact
            blocks:
              - p: Parlez-en à votre médecin.
""", "utf-8")
    return build(tmp / "mini", settings_for(tmp, cache_dir=mini_build.settings.cache_dir))


def shown_at(pg, t: float) -> dict:
    """Seek the paused audio to t; what the panel highlights once the page has followed it. A seek fires
    timeupdate, and the page's listener, added first, has run when this one reads: no wait on the clock."""
    return pg.evaluate("""t => new Promise(done => {
        audio.addEventListener('timeupdate', () => {
            const el = document.querySelector('#transcript .current');
            done({t: audio.currentTime, text: el && el.textContent}); }, {once: true});
        audio.currentTime = t; })""", t)


def test_nothing_is_highlighted_while_the_end_of_topic_cue_plays(page, three_chapters):
    chapter = three_chapters.manifest["chapters"][1]
    last = chapter["pages"][-1]["cues"]
    end = [c for c in last if c["kind"] == "cue"]
    said = [c for c in last if c["kind"] != "cue"][-1]  # the page's last sentence
    assert [c["written"] for c in end] == ["Fin du sujet."]
    page.goto((three_chapters.out_dir / "kiosk" / "index.html").as_uri())
    page.keyboard.press("2")
    wait_playing(page)
    page.evaluate("audio.pause()")
    mid = (said["start"] + said["end"]) / 2
    # the page's last sentence while it is said (its caption wraps at 42 characters)
    assert " ".join(shown_at(page, mid)["text"].split()) == said["written"]
    for t in (end[0]["start"] + 0.05, (end[0]["start"] + end[0]["end"]) / 2, end[0]["end"] - 0.05):
        assert shown_at(page, t) == {"t": pytest.approx(t, abs=0.01), "text": None}
    panel = " ".join(page.locator("#transcript").text_content().split())
    assert said["written"] in panel and "Fin du sujet" not in panel  # the cue is not the page's text
    assert not page.errors


def test_whole_guide_transcript_page_is_accessible(page, mini_build):
    import axe_playwright_python

    page.goto((mini_build.out_dir / "transcript.html").as_uri())
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator("h1").text_content() == mini_build.guide.title
    assert page.locator("h3#sujet-dmp").text_content() == "Le DMP"
    assert page.locator("a[href='https://www.ameli.fr/assure']").count() == 1
    page.add_script_tag(path=str(Path(axe_playwright_python.__file__).with_name("axe.min.js")))
    r = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    assert r["passes"]
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in r["violations"]] == []


# --- keys: Space on a control, a French keyboard, a keypad with Num Lock off --------------------------

def test_space_on_a_focused_button_presses_that_button(page, kiosk_url):
    page.goto(kiosk_url)
    page.keyboard.press("2")
    wait_playing(page)
    page.get_by_role("button", name="Plus rapide").focus()
    page.keyboard.press(" ")
    page.wait_for_function("() => document.getElementById('audio').playbackRate === 1.25")
    assert not audio_state(page)["paused"]  # Space pressed the button; it did not also pause
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press(" ")  # on no control, Space is play/pause
    page.wait_for_function("() => document.getElementById('audio').paused")
    assert audio_state(page)["rate"] == 1.25
    assert not page.errors


def press_as_sent(pg, key: str, code: str, vk: int, modifiers: int = 0) -> None:
    """A trusted key press through chromium's input pipeline, with the key and code a layout sends."""
    cdp = pg.context.new_cdp_session(pg)
    for kind in ("keyDown", "keyUp"):
        cdp.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": vk,
                                            "nativeVirtualKeyCode": vk, "modifiers": modifiers,
                                            **({"text": key} if kind == "keyDown" and len(key) == 1 else {})})
    cdp.detach()


CTRL_ALT = 1 | 2  # CDP modifier bits: what Windows reports for AltGr


def test_french_keyboard_top_row_altgr_hash_and_keypad_without_num_lock(page, kiosk_url, mini_build):
    page.goto(kiosk_url)
    press_as_sent(page, "é", "Digit2", 0x32)  # the AZERTY 2 key, without Shift
    s = wait_playing(page)
    assert re.search(r"/audio/02-dmp\.[0-9a-f]{12}\.mp3$", s["src"])
    press_as_sent(page, "-", "Digit6", 0x36)  # the AZERTY 6 key: next page
    wait_playing(page, mini_build.manifest["chapters"][1]["pages"][1]["start"])
    expect(page.locator("#now-page")).to_have_text("Page 2 sur 2 : Attention")
    press_as_sent(page, "End", "Numpad4", 0x23)  # the keypad's 4 with Num Lock off: previous page, not back 15 s
    expect(page.locator("#now-page")).to_have_text(re.compile("^Page 1 sur 2"))
    press_as_sent(page, "#", "Digit3", 0x33, CTRL_ALT)  # AltGr+3 on Windows
    heading(page).to_have_text("Menu principal")
    page.keyboard.press(" ")
    page.wait_for_function("() => document.getElementById('audio').paused")
    press_as_sent(page, "End", "Numpad1", 0x23)  # the keypad's 1 with Num Lock off
    heading(page).to_have_text("Introduction")
    press_as_sent(page, "&", "Digit1", 0x31, 2)  # Ctrl+1 stays the browser's shortcut
    heading(page).to_have_text("Introduction")
    assert not page.errors


def test_forward_15_seconds_by_key_and_button(page, kiosk_url):
    page.goto(kiosk_url)
    page.keyboard.press("2")
    t = wait_playing(page)["t"]
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.getElementById('audio').currentTime >= {t + 14.9}")
    expect(page.locator("#now-page")).to_have_text(re.compile("^Page 2 sur 2"))  # 15 s on is the next page
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => document.getElementById('audio').currentTime < {t + 14}")
    t = audio_state(page)["t"]
    page.get_by_role("button", name="Avancer de 15 secondes").click()
    page.wait_for_function(f"() => document.getElementById('audio').currentTime >= {t + 14.9}")
    assert page.locator("#fwd15").get_attribute("aria-keyshortcuts") == "ArrowRight"
    assert not page.errors


# --- a shared kiosk forgets the last person ----------------------------------------------------------

def status(pg):
    return expect(pg.locator("#status"))


def goto_with_stopped_clock(pg, url: str) -> None:
    """Open the page with its Date and timers stopped: they move only when the test moves them, so it waits for no real
    2 minutes, and a slow machine cannot make the idle time run out early."""
    pg.clock.install()
    pg.goto(url)
    pg.clock.pause_at(pg.evaluate("Date.now()") + 1000)


def test_idle_kiosk_forgets_the_topic_for_the_next_person(page, kiosk_url):
    goto_with_stopped_clock(page, kiosk_url)
    expect(page.locator("#help-idle")).to_contain_text("Sans action pendant 2 minutes")
    page.keyboard.press("2")
    wait_playing(page)
    page.get_by_role("button", name="Plus rapide").click()
    page.keyboard.press(" ")  # focus is on "Plus rapide": Space presses it again (1.5×)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press(" ")
    page.wait_for_function("() => document.getElementById('audio').paused")
    page.clock.run_for(90_000)
    heading(page).to_have_text("Le DMP")  # 90 s: still there
    page.clock.run_for(15_000)
    # warned 20 s before
    status(page).to_contain_text(re.compile(r"retour au menu principal dans (20|1[0-9]) secondes"))
    page.keyboard.press("Shift")  # any key keeps the page
    status(page).to_have_text("")
    page.clock.run_for(60_000)
    heading(page).to_have_text("Le DMP")
    page.clock.run_for(70_000)  # 130 s after the last key
    heading(page).to_have_text("Menu principal")
    status(page).to_have_text("Choisissez un sujet dans le sommaire.")
    s = page.evaluate("""() => ({stored: localStorage.getItem('audioguide:mini'), src: audio.getAttribute('src'),
        chapter: document.getElementById('now-chapter').textContent,
        text: document.getElementById('transcript').textContent,
        rate: audio.playbackRate, speed: document.getElementById('speed').textContent})""")
    assert s == {"stored": None, "src": None, "chapter": "", "text": "", "rate": 1, "speed": "1×"}
    page.reload()
    heading(page).to_have_text("Menu principal")
    status(page).to_have_text("Choisissez un sujet dans le sommaire.")  # no "Reprise : Le DMP"
    assert not page.errors


def test_a_position_older_than_the_idle_time_is_not_offered_again(page, kiosk_url):
    page.goto(kiosk_url)
    page.evaluate("""() => localStorage.setItem('audioguide:mini', JSON.stringify({level: 'chapter-dmp',
        chapter: 1, time: 14, speed: 1, volume: 1, at: Date.now() - 121000}))""")
    page.reload()
    page.wait_for_function("() => document.readyState === 'complete'")
    heading(page).to_have_text("Menu principal")
    assert "Reprise" not in page.locator("#status").text_content()
    assert page.evaluate("localStorage.getItem('audioguide:mini')") is None


def test_idle_kiosk_never_cuts_speech_and_stops_at_the_end_of_the_topic(page, kiosk_url):
    goto_with_stopped_clock(page, kiosk_url)
    page.keyboard.press("1")
    wait_playing(page)
    # Nobody touches the kiosk while it speaks. fast_forward jumps (the idle check runs once, after): run_for
    # would play 7 500 animation frames first, and a loaded machine could let the 12 s chapter end meanwhile.
    page.clock.fast_forward(125_000)
    assert not audio_state(page)["paused"]
    heading(page).to_have_text("Introduction")
    page.evaluate("audio.currentTime = audio.duration - 0.5")
    page.wait_for_function("() => audio.ended")
    status(page).to_have_text("Pour continuer avec Le DMP, appuyez sur Espace ou sur 6.")
    assert "/01-introduction." in audio_state(page)["src"]  # it did not roll into the next topic
    page.keyboard.press(" ")  # someone is there: Space goes on
    assert "/02-dmp." in wait_playing(page)["src"]
    assert not page.errors


@pytest.fixture(scope="session")
def personal_url(mini_build, tmp_path_factory):
    """The same build's kiosk page made with --kiosk-idle 0, beside a copy of its audio."""
    from audioguide.phone.menu import build_menu
    from audioguide.publishers.book import Book
    from audioguide.publishers.kiosk import render

    out = tmp_path_factory.mktemp("personal") / "out"
    shutil.copytree(mini_build.out_dir / "audio", out / "audio")
    (out / "kiosk").mkdir()
    page = render(Book.from_build(mini_build), build_menu(mini_build.guide), 0)
    (out / "kiosk" / "index.html").write_text(page, "utf-8")
    return (out / "kiosk" / "index.html").as_uri()


def test_personal_copy_keeps_the_topic_and_plays_on(page, personal_url):
    goto_with_stopped_clock(page, personal_url)
    expect(page.locator("#help-idle")).to_be_hidden()
    page.keyboard.press("1")
    wait_playing(page)
    page.clock.fast_forward(600_000)  # a jump, as above: the chapter must not end meanwhile
    page.evaluate("audio.currentTime = audio.duration - 0.5")
    page.wait_for_function("() => audio.currentSrc.includes('/02-dmp.')")  # played on to the next topic
    wait_playing(page)
    page.keyboard.press(" ")
    page.wait_for_function("() => audio.paused")
    page.clock.run_for(3_600_000)
    heading(page).to_have_text("Le DMP")
    page.reload()
    status(page).to_contain_text("Reprise : Le DMP")
    assert not page.errors


# --- screen readers, forced colours, small screens ---------------------------------------------------

def ax_buttons(pg) -> list[str]:
    """The names chromium gives its accessibility API, which is what a screen reader reads."""
    cdp = pg.context.new_cdp_session(pg)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    cdp.detach()
    return [n["name"]["value"] for n in nodes if n.get("role", {}).get("value") == "button" and not n.get("ignored")]


def wait_ax_buttons(pg, wanted: set[str]) -> list[str]:
    """ax_buttons once they include `wanted`: chromium updates its tree a moment after the DOM changes."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not wanted <= set(names := ax_buttons(pg)) and time.monotonic() < deadline:
        pg.wait_for_timeout(100)
    assert wanted <= set(names), names
    return names


def test_live_region_is_quiet_when_playback_moves_on_by_itself(page, kiosk_url, mini_build):
    page.goto(kiosk_url)
    page.keyboard.press("1")
    wait_playing(page)
    status(page).to_have_text("Introduction. Page 1 sur 1 : Bienvenue.")  # the listener's own choice is said
    page.evaluate("""() => { const s = document.getElementById('status'); window.said = [];
        new MutationObserver(() => window.said.push(s.textContent)).observe(s, {childList: true, subtree: true,
                                                                                characterData: true}); }""")
    page.evaluate("audio.currentTime = audio.duration - 0.5")  # the next chapter starts by itself
    page.wait_for_function("() => audio.currentSrc.includes('/02-dmp.') && !audio.paused")
    page.locator("#menu-list button").first.focus()  # a keyboard user in the sommaire
    page.evaluate(f"audio.currentTime = {mini_build.manifest['chapters'][1]['pages'][1]['start'] - 0.3}")
    expect(page.locator("#now-page")).to_have_text("Page 2 sur 2 : Attention")  # and its next page
    assert [s for s in page.evaluate("window.said") if s] == []  # the narrator says those titles; nothing else does
    # The sommaire was rebuilt for the new page; the keyboard focus stayed in it, on the same row.
    expect(page.locator("#menu-list li:first-child button")).to_be_focused()
    # The guide ends, and the narrator says so. Added after the page's own, this listener runs after it.
    page.evaluate("audio.addEventListener('ended', () => { window.endSeen = true; }, {once: true})")
    page.evaluate("audio.currentTime = audio.duration - 0.5")
    page.wait_for_function("() => window.endSeen")
    assert [s for s in page.evaluate("window.said") if s] == []
    page.keyboard.press("4")  # the listener's move is said again
    status(page).to_have_text("Le DMP. Page 1 sur 2 : Qu'est-ce que c'est ?")
    assert not page.errors


def test_screen_readers_hear_the_keys_one_play_state_and_the_browse_mode_help(page, kiosk_url):
    page.goto(kiosk_url)
    wait_ax_buttons(page, {"1, Introduction", "2, Le DMP", "*, Retour", "#, Menu principal"})
    page.keyboard.press("2")
    wait_playing(page)
    wait_ax_buttons(page, {"4, Page précédente", "5, Réécouter la page", "6, Page suivante", "Pause"})
    assert page.locator("#play").get_attribute("aria-pressed") is None  # the name says the state, alone
    page.keyboard.press(" ")
    page.wait_for_function("() => audio.paused")
    wait_ax_buttons(page, {"Écouter"})
    assert page.locator("#play").get_attribute("aria-pressed") is None
    help_text = " ".join(page.locator("#help-section").text_content().split())
    assert "NVDA" in help_text and "JAWS" in help_text and "mode formulaire" in help_text
    assert "Insert + Espace" in help_text and "Insert + Z" in help_text


def test_current_page_stands_out_in_forced_colours(page, kiosk_url):
    page.emulate_media(forced_colors="active")
    page.goto(kiosk_url)
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    page.keyboard.press("2")
    page.locator("#menu-list button[aria-current='true']").wait_for()
    # Forced colours replace every colour: what remains is shape and text.
    shapes = page.evaluate("""() => [...document.querySelectorAll('#menu-list button')].map(b => {
        const s = getComputedStyle(b), m = getComputedStyle(b, '::before');
        return [b.getAttribute('aria-current') === 'true', [s.borderTopStyle, s.borderTopWidth, s.borderLeftWidth,
                s.outlineStyle, s.outlineWidth, m.content].join(' | ')]; })""")
    current = [shape for is_current, shape in shapes if is_current]
    others = [shape for is_current, shape in shapes if not is_current]
    assert len(current) == 1 and others and current[0] not in others, shapes
    assert not any(name.startswith("▶") for name in ax_buttons(page))  # the sign is seen, not read out


@pytest.mark.parametrize("width,height,scale", [(320, 568, 1), (640, 450, 2)], ids=["phone", "zoom-200"])
def test_small_screen_shows_the_sommaire_on_the_first_screen(browser, kiosk_url, mini_build, width, height, scale):
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                                  locale="fr-FR")
    pg = context.new_page()
    try:
        pg.goto(kiosk_url)
        first = pg.locator("#menu-list button").first
        expect(first).to_be_visible()
        box = first.bounding_box()
        assert box["y"] + box["height"] <= height, box  # entry 1 on the first screen, without scrolling
        shown = pg.get_by_text(mini_build.guide.title, exact=True).filter(visible=True)
        expect(shown).to_have_count(1)  # the title once
        assert pg.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling (reflow)
        pg.keyboard.press("2")
        expect(pg.locator("#play")).to_be_visible()  # once a topic is chosen, the player is there
    finally:
        context.close()


# --- one key, one meaning; the read-along on the first screen ----------------------------------------

def shown_keys(pg) -> dict:
    """What the screen says the keys do: each visible key sign, and each visible button's aria-keyshortcuts."""
    return pg.evaluate("""() => {
        const seen = el => el.offsetParent !== null && el.getClientRects().length > 0;
        return {signs: [...document.querySelectorAll('.key')].filter(seen).map(k => k.firstChild.textContent),
                claims: [...document.querySelectorAll('button[aria-keyshortcuts]')].filter(seen)
                    .map(b => b.getAttribute('aria-keyshortcuts'))}; }""")


def test_a_key_means_one_thing_on_each_screen(page, kiosk_url, mini_build):
    page.goto(kiosk_url)
    page.keyboard.press("2")
    wait_playing(page)
    keys = shown_keys(page)
    assert {"4", "5", "6"} <= set(keys["signs"]) and {"4", "5", "6"} <= set(keys["claims"])
    page.keyboard.press("*")  # the main menu, while the topic plays on
    heading(page).to_have_text("Menu principal")
    menu_keys = [i["key"] for i in kiosk_menu(mini_build)]
    keys = shown_keys(page)
    digits = [k for k in keys["signs"] if k.isdigit()]
    assert sorted(digits) == sorted(menu_keys), keys  # each digit shown once, for what it does here
    assert sorted(k for k in keys["claims"] if k.isdigit()) == sorted(menu_keys), keys
    before = audio_state(page)["page"]
    page.keyboard.press("6")  # no menu item 6: it says so, and does not turn the page either
    status(page).to_have_text("Ce choix n'existe pas.")
    assert audio_state(page)["page"] == before and not audio_state(page)["paused"]
    page.get_by_role("button", name="Page suivante").click()  # the button still works, without its key
    expect(page.locator("#now-page")).to_have_text(re.compile("^Page 2 sur 2"))
    page.keyboard.press("2")  # the topic's pages again: 4, 5 and 6 are the page keys
    heading(page).to_have_text("Le DMP")
    assert {"4", "5", "6"} <= set(shown_keys(page)["signs"])
    assert not page.errors


def kiosk_menu(build) -> list[dict]:
    from audioguide.phone.menu import build_menu

    menu = build_menu(build.guide)
    return [{"key": i.key} for i in menu.nodes[menu.root].items]


# What must be on the first screen, without scrolling, once a topic is chosen: Play/Pause, the next-page key
# and the sentence being said. 200 % zoom of a 1280×800 screen is 640×400 CSS pixels at device scale 2: what
# chromium lays out when its zoom is 200 % (its page zoom changes the CSS viewport the same way).
FIRST_SCREEN = [(1280, 800, 1), (360, 740, 1), (640, 400, 2)]


def rect(pg, selector: str) -> dict:
    return pg.evaluate("s => { const r = document.querySelector(s).getBoundingClientRect();"
                       " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }", selector)


def on_screen(r: dict, width: int, height: int) -> bool:
    return r["top"] >= 0 and r["left"] >= 0 and r["bottom"] <= height and r["right"] <= width


@pytest.mark.parametrize("width,height,scale", FIRST_SCREEN, ids=["1280x800", "360x740", "zoom-200"])
def test_play_next_and_the_sentence_said_are_on_the_first_screen(browser, kiosk_url, width, height, scale):
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                                  locale="fr-FR")
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    try:
        pg.goto(kiosk_url)
        pg.get_by_role("button", name="Le DMP").click()  # as a visitor does (scrolled to it if it must be)
        # Playing for real, not only asked to: a seek before the chapter's audio has loaded is lost (seen under
        # load: the time read back was 0).
        wait_playing(pg)
        pg.evaluate("audio.pause()")
        for _turn in range(2):  # both pages of the topic
            marks = pg.evaluate("""() => [...document.querySelectorAll(
                '#now-page[data-start], #transcript [data-start]')]
                .map(el => (+el.dataset.start + +el.dataset.end) / 2)""")
            assert len(marks) >= 2
            for t in marks:
                shown = shown_at(pg, t)
                assert shown["t"] == pytest.approx(t, abs=0.01)
                current = rect(pg, "#now-page.current, #transcript .current")
                for what, r in (("Play/Pause", rect(pg, "#play")), ("next page", rect(pg, "#next")),
                                ("sentence said", current)):
                    assert on_screen(r, width, height), (what, t, r)
            assert pg.evaluate("window.scrollY") == 0
            pg.keyboard.press("6")
            pg.wait_for_function("() => document.getElementById('now-page').textContent.startsWith('Page 2')")
            pg.evaluate("audio.pause()")
        assert pg.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        assert axe_problems(pg) == []  # this layout too
        assert not pg.errors
    finally:
        context.close()


def axe_problems(pg) -> list:
    import axe_playwright_python

    pg.add_script_tag(path=str(Path(axe_playwright_python.__file__).with_name("axe.min.js")))
    r = pg.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    assert r["passes"], "axe ran no check"
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in r["violations"]]


def luminance(rgb: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_sentence_said_stands_out_from_its_neighbours(page, kiosk_url):
    """WCAG 1.4.11: the mark has 3:1 against what is around it; its own text stays readable on it (7:1, AAA)."""
    page.goto(kiosk_url)
    page.keyboard.press("2")
    wait_playing(page)
    page.evaluate("audio.pause()")
    middle = sentences_of(page)[1]
    shown_at(page, (middle["start"] + middle["end"]) / 2)
    colours = page.evaluate("""() => {
        const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
                                 if (!/^rgba\\(.*, 0\\)$|transparent/.test(c)) return c; }
                           return 'rgb(255, 255, 255)'; };
        const cur = document.querySelector('#transcript .current');
        const others = [...document.querySelectorAll('#transcript [data-start]')].filter(el => el !== cur);
        return {mark: bg(cur), text: getComputedStyle(cur).color, around: others.map(bg), aroundText: others.map(
            el => getComputedStyle(el).color)}; }""")
    assert colours["around"], colours
    for around in colours["around"]:
        assert contrast(colours["mark"], around) >= 3, colours
    assert contrast(colours["text"], colours["mark"]) >= 7, colours


def test_speed_and_volume_keep_their_buttons_on_one_line_at_360_px(browser, kiosk_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    pg = context.new_page()
    try:
        pg.goto(kiosk_url)
        pg.keyboard.press("1")
        expect(pg.locator("#faster")).to_be_visible()
        for row in (("#slower", "#speed", "#faster"), ("#quieter", "#volume", "#louder")):
            boxes = [rect(pg, s) for s in row]
            middles = [(b["top"] + b["bottom"]) / 2 for b in boxes]
            assert max(middles) - min(middles) < 1, (row, boxes)  # − value + on one line
            assert boxes[0]["right"] < boxes[1]["left"] < boxes[1]["right"] < boxes[2]["left"]
            assert all(b["right"] <= 360 for b in boxes)
    finally:
        context.close()
