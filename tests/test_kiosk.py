"""The kiosk page in Debian's chromium, driven by Playwright: keys, buttons, audio, reload, axe-core audit."""

import re
import shutil
import threading
from pathlib import Path

import pytest

from playwright.sync_api import expect

from audioguide.build import build
from audioguide.serve import make_server
from conftest import ROOT, settings_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM, reason="chromium is installed by script/bootstrap --test")]
ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 30_000  # generous: under a loaded full suite the audio can start seconds late; waits end on a condition
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "wcag2aaa", "best-practice"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--autoplay-policy=no-user-gesture-required", "--mute-audio"])
        yield b
        b.close()


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


def heading(pg):
    return expect(pg.locator("#menu-heading"))


def test_keys_pick_play_and_move_between_pages(page, kiosk_url, mini_build):
    page.goto(kiosk_url)
    assert page.evaluate("document.documentElement.lang") == "fr"
    page.keyboard.press("2")  # the chapter, as on the phone: a one-part guide's menu lists its chapters
    s = wait_playing(page)
    assert re.search(r"/audio/02-dmp\.[0-9a-f]{12}\.mp3$", s["src"])
    page.locator("#transcript p.current").wait_for()
    assert page.evaluate("window.scrollY") == 0  # following the text scrolls its panel, never the page
    page.wait_for_function(f"() => document.getElementById('audio').currentTime > {s['t'] + 0.3}")  # it advances
    page.keyboard.press("6")
    pages = mini_build.manifest["chapters"][1]["pages"]
    s = wait_playing(page, pages[1]["start"])
    assert s["page"] == "Page 2 sur 2 : Attention"
    assert "Page 2 sur 2" in s["status"]  # said through the aria-live region
    page.keyboard.press("4")
    page.wait_for_function("() => document.getElementById('audio').currentTime < %f" % pages[1]["start"])
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
    current = page.locator("#transcript p.current")
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
    page.wait_for_function("() => document.getElementById('audio').paused")
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
    assert page.evaluate("document.getElementById('audio').textTracks[0].cues[1].text") == \
        page.locator("#transcript p").nth(1).text_content()
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
    page.locator("#transcript p.current").wait_for()
    results.append(page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS))
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


HOSTILE = "<script>window.__pwned=1</script> & \"guillemets\" 'apostrophes' \u202eאבג\u200b <img src=x onerror=window.__pwned=2>"


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

def highlighted(pg) -> dict | None:
    return pg.evaluate("""() => { const el = document.querySelector('#transcript p.current');
        const a = document.getElementById('audio');
        return el && {text: el.textContent, start: +el.dataset.start, end: +el.dataset.end, t: a.currentTime}; }""")


def test_read_along_shows_the_written_sentence_as_it_is_spoken(page, kiosk_url, mini_build):
    from audioguide.publishers.transcripts import caption_cues

    chapter = mini_build.manifest["chapters"][1]
    captions = [c["text"] for c in caption_cues(chapter["pages"])]
    page.goto(kiosk_url)
    page.keyboard.press("2")
    page.keyboard.press("1")
    wait_playing(page)
    panel = page.locator("#transcript").text_content()
    assert "Le DMP est un carnet de santé numérique." in panel and "D.M.P." not in panel
    page.get_by_role("button", name="Plus rapide").click()
    page.get_by_role("button", name="Plus rapide").click()  # 1.5×: more sentences go by, and it still follows
    seen = []
    for _ in range(60):  # about 9 s, 13 s of audio
        h = highlighted(page)
        if h:
            assert h["text"] in captions  # the written form, exactly as in the captions
            assert h["start"] - 0.3 <= h["t"] <= h["end"] + 0.3  # the sentence being spoken now
            if not seen or seen[-1] != h["text"]:
                seen.append(h["text"])
        page.wait_for_timeout(150)
    assert len(seen) >= 3, seen
    assert [captions.index(s) for s in seen] == sorted(captions.index(s) for s in seen)  # in spoken order
    page.keyboard.press("6")
    page.wait_for_function("() => document.getElementById('transcript').textContent.includes('www.ameli.fr')")
    panel = page.locator("#transcript").text_content()
    # addresses and numbers as written, so they can be copied down
    assert "www.ameli.fr/assure" in panel and "Appelez le 15 en cas d'urgence." in panel
    assert "point f r" not in panel and "quinze" not in panel
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
