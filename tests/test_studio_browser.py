"""The studio in Debian's chromium through Playwright, driven by the keyboard alone: from a Word file to a built
guide whose outputs are downloaded and checked; axe-core on every screen and state; the safety rules refused."""

import json
import re
import shutil
import threading
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_kiosk import AXE_TAGS, CHROMIUM, WAIT_MS

from audioguide.studio.server import StudioServer

from conftest import have_tools

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM, reason="chromium: script/bootstrap --test"),
              pytest.mark.skipif(not have_tools(), reason="espeak-ng and ffmpeg: script/bootstrap")]
BUILD_MS = 15 * 60_000  # a whole build under a loaded machine; the wait ends on the DOM's "terminée"
expect.set_options(timeout=WAIT_MS)


@pytest.fixture
def context(browser, tmp_path):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", accept_downloads=True)
    ctx.errors = []
    ctx.on("weberror", lambda e: ctx.errors.append(str(e.error)))
    ctx.on("console", lambda m: m.type == "error" and ctx.errors.append(f"{m.text} {m.location.get('url')}"))
    yield ctx
    ctx.close()


@pytest.fixture
def pg(context):
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


class Running:
    def __init__(self, folder: Path, cache: Path, **kw):
        self.folder, self.cache = folder, cache
        self.server = StudioServer(folder, port=0, cache_dir=cache, **kw)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self.url = self.server.base


@pytest.fixture
def studio(tmp_path):
    s = Running(tmp_path / "diabete", tmp_path / "cache")
    yield s
    s.server.stop()
    s.thread.join()


def make_docx(path: Path) -> Path:
    from docx import Document

    d = Document()
    d.add_heading("Bien vivre avec le diabète", 0)
    d.add_paragraph("Ce guide explique le diabète aux patients et à leurs proches.")
    d.add_heading("Comprendre", 1)
    d.add_heading("Qu'est-ce que le diabète", 2)
    d.add_paragraph("Le diabète est une maladie chronique. Le sucre reste dans le sang.")
    d.add_paragraph("Le réseau ZPQR accompagne les patients.")
    d.add_heading("Les signes", 2)
    d.add_paragraph("La soif et la fatigue sont des signes fréquents.")
    d.add_heading("Se soigner", 1)
    d.add_heading("Le traitement", 2)
    d.add_paragraph("Le médecin adapte le traitement à chaque personne.")
    d.save(path)
    return path


def axe(pg, state: str) -> None:
    import axe_playwright_python

    # Evaluated, not added as a <script>: the studio's Content-Security-Policy refuses inline scripts.
    src = Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text("utf-8")
    pg.evaluate("src => { if (!window.axe) (0, eval)(src); }", src)
    r = pg.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    assert r["passes"], "axe ran no check"
    found = [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in r["violations"]]
    assert found == [], f"{state}: {found}"


def tab_to(pg, selector: str, limit: int = 120) -> None:
    """Press Tab until the focus is on `selector`: what a keyboard user does, and proof that it is reachable."""
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if pg.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def choose_file(pg, selector: str, path) -> None:
    """Tab to a file field and give it a file. Not through the file chooser a Space opens: Playwright turns on
    chromium's chooser interception without waiting for it, so under load the key can win that race and the
    chooser opens unseen (puppeteer#6040). The field itself is given the file, as the chooser would."""
    tab_to(pg, selector)
    pg.locator(selector).set_input_files(path)


def follow(pg, selector: str) -> None:
    """Tab to a link or button and press Enter, waiting for the page it opens."""
    tab_to(pg, selector)
    with pg.expect_navigation():
        pg.keyboard.press("Enter")


def clips(pg, box: str) -> list[tuple[str, str]]:
    return pg.eval_on_selector_all(f"{box} [data-clip-key]", "els => els.map(e => [e.dataset.clipKey, e.textContent])")


def wait_audio(pg, box: str) -> None:
    pg.wait_for_function(f"() => {{ const a = document.querySelector('{box} audio'); "
                         "return a && a.readyState >= 1 && a.duration > 0; }")


@pytest.mark.french  # the studio is French: the import report and the checks it shows are too
def test_a_whole_journey_with_the_keyboard_alone(studio, pg, context, tmp_path):
    import feedparser
    from test_epub import epubcheck

    from audioguide.build import choose_engine
    from audioguide.config import BuildSettings
    from audioguide.guide import load_guide
    from audioguide.tts.cache import ClipCache, clip_key

    docx = make_docx(tmp_path / "diabete.docx")
    t0, timeline = time.perf_counter(), []

    def mark(step: str) -> None:  # a printed timeline of the journey (a figure, not a check)
        timeline.append(f"{time.perf_counter() - t0:6.1f} s  {step}")

    pg.goto(studio.url)
    expect(pg.locator("h1")).to_have_text("Commencer un guide")
    axe(pg, "start")

    # 1. Start from a Word file; the import report shows beside the draft.
    choose_file(pg, "#document", docx)
    follow(pg, 'form[action="/importer"] button')
    expect(pg.locator("#t-rapport")).to_have_text("Rapport d'import")
    expect(pg.locator(".rapport")).to_contain_text("titres de niveau 1")
    expect(pg.locator(".arbre")).to_contain_text("Les signes")
    axe(pg, "home after import")
    mark("document imported, report shown")

    # 2. Edit a page: the checks run as one types, with check's file, line and field.
    follow(pg, 'a[href="/page/comprendre/qu-est-ce-que-le-diabete"]')
    axe(pg, "page editor")
    tab_to(pg, "#texte")
    pg.keyboard.press("Control+End")
    bad = "\n\n[un lien](ftp://exemple.fr/)"
    pg.keyboard.type(bad)
    expect(pg.locator("#verification")).to_contain_text("guide.md, ligne")
    axe(pg, "editor with a problem")
    for _ in bad:
        pg.keyboard.press("Backspace")
    pg.keyboard.type("\n\nIl se soigne bien.")
    expect(pg.locator("#verification")).to_contain_text("Aucun problème")
    follow(pg, "#editeur button[type=submit]")
    expect(pg.locator("#annonces")).to_have_text("Enregistré.")
    assert "Il se soigne bien." in (studio.folder / "guide.md").read_text()
    mark("page edited with live checks, saved")

    # 3. Listen at the chosen pace, through the clip cache.
    tab_to(pg, "#allure")
    pg.keyboard.press("l")  # "lent"
    assert pg.eval_on_selector("#allure", "s => s.value") == "lent"
    tab_to(pg, "#ecoute button")
    pg.keyboard.press("Enter")
    wait_audio(pg, "#lecteur")
    heard = clips(pg, "#lecteur")
    cache = ClipCache(studio.cache)
    assert heard and all(cache.has(k) for k, _ in heard)
    axe(pg, "editor with the page's audio")
    mark("page heard")

    # 4. Pronunciation: the audit's word, fixed by respelling, heard, then kept in the lexicon.
    follow(pg, 'a[href="/prononciation"]')
    expect(pg.locator("#resultats")).to_contain_text("ZPQR")
    axe(pg, "pronunciation")
    tab_to(pg, 'input[name="dire"]')
    pg.keyboard.type("zépécuère")
    tab_to(pg, 'form[action="/prononciation/essai"] button')
    pg.keyboard.press("Enter")
    wait_audio(pg, "[id^=essai-]")
    (key, text), = clips(pg, "[id^=essai-]")
    assert "zépécuère" in text and "ZPQR" not in text
    settings = BuildSettings(cache_dir=studio.cache, progress=False)
    settings.apply_guide(load_guide(studio.folder))
    engine = choose_engine(settings)
    assert key == clip_key(engine, text) and cache.has(key)  # the clip heard is the fixed one
    axe(pg, "pronunciation with a try")
    follow(pg, "form.garder button")
    expect(pg.locator("#annonces")).to_contain_text("ZPQR")
    assert 'ZPQR: "zépécuère"' in (studio.folder / "guide.md").read_text()
    expect(pg.locator("#resultats")).to_contain_text("Analyse terminée")
    expect(pg.locator("main")).not_to_contain_text("Comment dire « ZPQR »")
    axe(pg, "pronunciation after a fix kept")
    # Heard in the page too: its clips now say the respelling.
    follow(pg, 'a[href="/"]')
    follow(pg, 'a[href="/page/comprendre/qu-est-ce-que-le-diabete"]')
    tab_to(pg, "#ecoute button")
    pg.keyboard.press("Enter")
    wait_audio(pg, "#lecteur")
    fixed = [(k, t) for k, t in clips(pg, "#lecteur") if "zépécuère" in t]
    assert len(fixed) == 1 and cache.has(fixed[0][0]) and fixed[0][0] not in dict(heard)

    mark("pronunciation fixed, heard, kept")
    # 5. Build, with the progress shown, then the summary.
    follow(pg, 'a[href="/construire"]')
    axe(pg, "build")
    follow(pg, 'form[action="/construire"] button')
    expect(pg.locator("#barre")).to_be_visible()
    axe(pg, "build running")
    expect(pg.locator("#fin")).to_contain_text("Construction terminée", timeout=BUILD_MS)
    assert pg.eval_on_selector("#barre", "b => b.value") == 100
    mark("built")
    axe(pg, "build finished")
    follow(pg, "#fin a")
    for use in ("Podcast", "Livre audio (EPUB, DAISY)", "Ligne téléphonique", "Borne", "Guide entier en MP3"):
        expect(pg.locator(".sorties h2", has_text=use)).to_have_count(1)
    axe(pg, "outputs")
    manifest = json.loads((studio.folder / "sortie" / "manifest.json").read_text())
    # The build said the fixed word: the manifest's cue for that sentence, voiced as the build voices it,
    # is a clip in the cache, and its voice text holds the respelling.
    from audioguide.narration.lexicon import Voice

    voice = Voice(load_guide(studio.folder).lexicon, False)
    cue = next(c for ch in manifest["chapters"] for p in ch["pages"] for c in p["cues"] if "ZPQR" in c["written"])
    assert "zépécuère" in voice(cue["text"]) and cache.has(clip_key(engine, voice(cue["text"])))

    # 6. Use the outputs: download each, check it, play a chapter, open the kiosk.
    def download(selector: str) -> Path:
        tab_to(pg, selector)
        with pg.expect_download() as d:
            pg.keyboard.press("Enter")
        target = tmp_path / d.value.suggested_filename
        d.value.save_as(target)
        return target

    epub = download('a[href$=".epub"]')
    assert epubcheck(epub, tmp_path) == []
    with zipfile.ZipFile(download('a[href$="-daisy.zip"]')) as z:
        assert any(n.endswith("ncc.html") for n in z.namelist())
    with zipfile.ZipFile(download('a[href$="ligne-telephonique.zip"]')) as z:
        assert "ligne-telephonique/menu.json" in z.namelist()
    assert download('a[href*="-complet."]').read_bytes()[:3] == b"ID3"
    feed = pg.request.get(studio.url + "sorties/" + manifest["feed"])
    parsed = feedparser.parse(feed.body())
    assert not parsed.bozo and parsed.feed.title == "Bien vivre avec le diabète"
    titles = " | ".join(e.title for e in parsed.entries)
    assert all(c["title"] in titles for c in manifest["chapters"]), titles
    assert all(e.enclosures and e.enclosures[0].type == "audio/mpeg" for e in parsed.entries)
    tab_to(pg, ".chapitres audio")
    pg.keyboard.press("Space")
    pg.wait_for_function("() => document.querySelector('.chapitres audio').currentTime > 0")
    tab_to(pg, 'a[href$="kiosk/index.html"]')
    with context.expect_page() as kiosk:
        pg.keyboard.press("Enter")
    expect(kiosk.value.locator("#menu-heading")).to_be_visible()
    kiosk.value.close()

    mark("outputs downloaded and checked, chapter played, kiosk opened")
    # 7. Publish: a folder for a web host, with an index page and plain-named copies beside the hashed MP3s.
    follow(pg, 'form[action="/publier"] button')
    expect(pg.locator("#annonces")).to_have_text("Dossier prêt.")
    axe(pg, "published")
    out = studio.folder / "publication"
    assert "Podcast" in (out / "index.html").read_text()
    for c in manifest["chapters"]:
        hashed = out / c["mp3"]
        plain = hashed.with_name(re.sub(r"\.[0-9a-f]{12}\.mp3$", ".mp3", hashed.name))
        assert plain != hashed and plain.read_bytes() == hashed.read_bytes()
    for topic in ("podcast", "telephone"):
        follow(pg, f'a[href="/aide/{topic}"]')
        axe(pg, f"help {topic}")
    mark("published folder ready")
    print("\n".join(["Journey timeline (keyboard alone, chromium):", *timeline]))
    assert context.errors == []


def test_a_new_guide_from_the_start_screen(studio, pg):
    pg.goto(studio.url)
    tab_to(pg, "#titre")
    pg.keyboard.type("Mon guide santé")
    follow(pg, 'form[action="/nouveau"] button')
    expect(pg.locator(".arbre")).to_contain_text("Pourquoi ce guide")
    assert 'title: "Mon guide santé"' in (studio.folder / "guide.md").read_text()
    axe(pg, "home of a new guide")
    follow(pg, 'a[href="/fichier"]')
    axe(pg, "whole-file editor")


def test_a_second_tab_s_stale_save_is_refused_in_the_browser(studio, pg, context):
    shutil.copytree(Path(__file__).parent / "data" / "md" / "grippe", studio.folder, dirs_exist_ok=True)
    other = context.new_page()
    for tab in (pg, other):
        tab.goto(studio.url + "page/la-grippe/les-symptomes")
    pg.fill("#texte", pg.input_value("#texte").replace("brutalement", "soudainement"))
    with pg.expect_navigation():
        pg.click("#editeur button[type=submit]")
    other.fill("#texte", other.input_value("#texte").replace("courbatures", "douleurs"))
    with other.expect_navigation():
        other.click("#editeur button[type=submit]")
    expect(other.get_by_role("alert")).to_contain_text("modifié ailleurs")
    assert "douleurs" in other.input_value("#texte")  # kept, to copy
    axe(other, "stale save refused")
    text = (studio.folder / "guide.md").read_text()
    assert "soudainement" in text and "douleurs" not in text


def test_a_form_from_another_site_is_refused_in_the_browser(studio, pg):
    shutil.copytree(Path(__file__).parent / "data" / "md" / "grippe", studio.folder, dirs_exist_ok=True)
    before = (studio.folder / "guide.md").read_bytes()
    pg.set_content(f'<form method="post" action="{studio.url}enregistrer"><input name="texte" value="x">'
                   '<input name="line" value="0"><button>Envoyer</button></form>')
    with pg.expect_navigation():
        pg.click("button")
    expect(pg.get_by_role("alert")).to_contain_text("Demande refusée")
    axe(pg, "refused")
    assert (studio.folder / "guide.md").read_bytes() == before


def test_the_e_sante_guide_s_screens_pass_axe(pg, tmp_path):
    """A real guide: three levels, YAML (edited whole), dozens of pronunciation findings."""
    folder = tmp_path / "e-sante"
    shutil.copytree(Path(__file__).parent.parent / "guides" / "e-sante", folder)
    s = Running(folder, tmp_path / "cache")
    try:
        pg.goto(s.url)
        expect(pg.locator(".arbre .partie").first).to_be_visible()
        axe(pg, "e-santé home")
        first = pg.locator(".arbre a").first.get_attribute("href")
        pg.goto(s.url.rstrip("/") + first)  # a YAML guide's page opens the whole file, and plays the page
        expect(pg.locator("label[for=texte]")).to_have_text("Texte du guide")
        pg.click("#ecoute button")
        wait_audio(pg, "#lecteur")
        axe(pg, "e-santé whole-file editor with a page heard")
        pg.goto(s.url + "prononciation")
        axe(pg, "e-santé pronunciation while the audit runs")
        expect(pg.locator("#resultats")).to_contain_text("Analyse terminée", timeout=5 * 60_000)
        axe(pg, "e-santé pronunciation")
        pg.goto(s.url + "sorties")
        axe(pg, "e-santé outputs before a build")
    finally:
        s.server.stop()
        s.thread.join()


def test_the_safety_rules_refuse_in_the_browser_with_a_french_message(studio, pg, tmp_path):
    """Each refusal a browser can meet: a wrong or too big upload, a path out of the folder, a build while the
    CLI builds, and (below) a studio with a secret opened without it. Every refusal screen passes axe."""
    from audioguide.lock import OutputLock

    pg.goto(studio.url)
    fake = tmp_path / "faux.docx"
    fake.write_bytes(b"MZ\x90\x00 un programme, pas un document Word")
    pg.set_input_files("#document", fake)
    with pg.expect_navigation():
        pg.click('form[action="/importer"] button')
    expect(pg.get_by_role("alert")).to_contain_text("ne correspond pas à son nom")
    axe(pg, "upload of the wrong type")
    pg.goto(studio.url)
    big = tmp_path / "gros.pdf"
    with open(big, "wb") as f:
        f.write(b"%PDF-1.4\n")
        f.truncate(21 * 1024 * 1024)
    pg.set_input_files("#document", big)
    with pg.expect_navigation():
        pg.click('form[action="/importer"] button')
    expect(pg.get_by_role("alert")).to_contain_text("trop gros")
    axe(pg, "upload too big")
    assert not (studio.folder / "guide.md").exists()

    shutil.copytree(Path(__file__).parent / "data" / "md" / "grippe", studio.folder, dirs_exist_ok=True)
    for path in ("sorties/..%2fguide.md", "sorties/%2e%2e/%2e%2e/etc/passwd"):
        r = pg.goto(studio.url + path)
        assert r.status == 404
        expect(pg.get_by_role("alert")).to_contain_text("introuvable")
    axe(pg, "path refused")

    with OutputLock(studio.folder / "sortie"):
        pg.goto(studio.url + "construire")
        with pg.expect_navigation():
            pg.click('form[action="/construire"] button')
        expect(pg.locator("#echec")).to_contain_text("Une autre construction écrit déjà")
    axe(pg, "build refused by the CLI's lock")

    locked = Running(tmp_path / "secret", tmp_path / "cache", secret="un-code-assez-long")
    try:
        r = pg.goto(locked.url)
        assert r.status == 401
        expect(pg.get_by_role("alert")).to_contain_text("code secret")
        axe(pg, "secret missing")
        pg.goto(locked.url + "?cle=un-code-assez-long")
        expect(pg.locator("h1")).to_have_text("Commencer un guide")
        assert "cle=" not in pg.url  # the secret leaves the address bar for a cookie
    finally:
        locked.server.stop()
        locked.thread.join()
