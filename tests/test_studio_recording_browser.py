"""Recording a page in the studio with the microphone, in Debian's chromium, by the keyboard alone: chromium's fake
capture plays a WAV that espeak-ng made of the page's words (another voice and pace than the guide's); the take is
heard, recorded again, kept; the studio builds the guide and the page's reading in the outputs is that take, its
sentences in sync with it. axe-core on every state. No sleeps: each wait ends on the page's own state (the level
meter showing signal, the length the recorder shows from the audio clock, the take shown, the build finished)."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect
from test_kiosk import CHROMIUM, WAIT_MS
from test_recordings import READER, say, speech_bounds
from test_studio_browser import BUILD_MS, Running, axe, choose_file, follow, tab_to, wait_audio

from audioguide.guide import load_guide
from audioguide.recordings.check import spoken
from audioguide.recordings.process import decode
from audioguide.recordings.store import BACKUPS, page_texts
from audioguide.tts.base import RATE

from conftest import CHROMIUM_ARGS, DATA, have_tools

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM, reason="chromium: script/bootstrap --test"),
              pytest.mark.skipif(not have_tools(), reason="espeak-ng and ffmpeg: script/bootstrap")]
pytest.importorskip("librosa")
CHAPTER, PAGE = "introduction", "bienvenue"
REF = f"{CHAPTER}/{PAGE}"
LEAD_S, GAP_S = 0.4, 0.6
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> tuple[Path, float, float]:
    """The WAV the fake microphone plays (once, from its start, for each recording): the page's sentences read
    by another espeak-ng voice, 0.6 s apart, at half scale. (path, speech start, speech end) in seconds."""
    root = tmp_path_factory.mktemp("micro")
    texts = page_texts(load_guide(DATA / "md" / "grippe" / "guide.md"), CHAPTER, PAGE)
    parts = [np.zeros(int(RATE * LEAD_S))]
    for text in texts:
        parts += [say(READER, text) * 0.5, np.zeros(int(RATE * GAP_S))]
    y = np.concatenate(parts + [np.zeros(RATE)])
    path = root / "lecture.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(np.round(y * 32767).astype("<i2").tobytes())
    return path, LEAD_S, (len(y) - RATE - int(RATE * GAP_S)) / RATE


@pytest.fixture(scope="module")
def browser(playwright, voice):
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={voice[0]}%noloop"])
    yield b
    b.close()


@pytest.fixture
def pg(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    ctx.errors = []
    ctx.on("weberror", lambda e: ctx.errors.append(str(e.error)))
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    assert ctx.errors == []
    ctx.close()


@pytest.fixture
def studio(tmp_path):
    folder = tmp_path / "grippe"
    shutil.copytree(DATA / "md" / "grippe", folder)
    s = Running(folder, tmp_path / "cache")
    yield s
    s.server.stop()
    s.thread.join()


def record(pg, until_s: float, while_recording=lambda: None) -> None:
    """Press "Enregistrer", wait for the meter to show the voice, then at until_s of the recorder's own clock (the
    audio clock, shown on the page) press again; wait for the take to be shown."""
    takes = pg.eval_on_selector("#enregistrer", "b => +(b.dataset.prises || 0)")
    tab_to(pg, "#enregistrer")
    pg.keyboard.press("Enter")
    expect(pg.locator("#etat-voix")).to_have_text("Enregistrement en cours")
    expect(pg.locator("#enregistrer")).to_have_text("Arrêter l'enregistrement")
    pg.wait_for_function("() => document.getElementById('niveau').value > 0.05")
    while_recording()
    pg.wait_for_function(f"() => +document.getElementById('duree-prise').dataset.secondes >= {until_s}")
    pg.keyboard.press("Enter")  # the focus stayed on the button
    pg.wait_for_function(f"() => +(document.getElementById('enregistrer').dataset.prises || 0) > {takes}")
    expect(pg.locator("#etat-voix")).to_contain_text("Prise enregistrée, durée")
    wait_audio(pg, "#prise")


def test_a_page_recorded_with_the_microphone_is_the_reading_in_the_outputs(studio, pg, voice, tmp_path):
    wav, speech_start, speech_end = voice
    pg.goto(studio.url)
    follow(pg, f'a[href="/page/{REF}"]')
    expect(pg.locator("#voix")).to_contain_text("lue par la voix de synthèse")
    # Named apart from the text's "Enregistrer" (save) button, for a screen reader's list of buttons.
    expect(pg.locator("#enregistrer")).to_have_text("Enregistrer ma voix")
    axe(pg, "page not recorded")

    # A first take cut short, heard, then recorded again.
    record(pg, 1.5)
    axe(pg, "a take shown")
    tab_to(pg, "#prise audio")
    first = pg.eval_on_selector("#prise audio", "a => a.src")
    expect(pg.locator("#enregistrer")).to_have_text("Enregistrer à nouveau")

    # The whole reading: stopped once the recorder's clock is past the last word.
    record(pg, speech_end + 0.7, while_recording=lambda: axe(pg, "recording"))
    assert pg.eval_on_selector("#prise audio", "a => a.src") != first
    expect(pg.locator("#prise")).to_contain_text("le texte de la page se lit en")
    follow(pg, "#garder")
    expect(pg.locator("#annonces")).to_contain_text("Enregistrement gardé")
    expect(pg.locator("#voix")).to_contain_text("lue par une voix humaine : recordings/introduction/bienvenue.webm")
    expect(pg.locator("#voix")).to_contain_text("Durée de la lecture")
    axe(pg, "page recorded")
    kept = studio.folder / "recordings" / CHAPTER / f"{PAGE}.webm"
    # The kept file is the fake microphone's reading: as long from its first word to its last.
    took = spoken(decode(kept, REF))
    assert abs(took - (speech_end - speech_start)) <= 0.3
    assert not (kept.parent / BACKUPS).exists()  # no recording was replaced

    # Built from the studio: the page's sentences are the reading's, in the chapter's MP3.
    follow(pg, 'a[href="/construire"]')
    follow(pg, 'form[action="/construire"] button')
    expect(pg.locator("#fin")).to_contain_text("Construction terminée", timeout=BUILD_MS)
    manifest = json.loads((studio.folder / "sortie" / "manifest.json").read_text())
    chapter = next(c for c in manifest["chapters"] if c["id"] == CHAPTER)
    page = next(p for p in chapter["pages"] if p["id"] == PAGE)
    body = [c for c in page["cues"] if c["block"] is not None]
    assert len(body) == 2
    assert abs((body[-1]["end"] - body[0]["start"]) - (speech_end - speech_start)) <= 0.4, body
    starts, ends = speech_bounds(studio.folder / "sortie" / chapter["mp3"])
    errors = []
    for cue in body:  # captions start and end where the reading does
        errors += [min(abs(cue["start"] - s) for s in starts), min(abs(cue["end"] - e) for e in ends)]
        assert errors[-2] <= 0.25 and errors[-1] <= 0.25, (cue, starts, ends)
    print(f"\nmicrophone take: reading {speech_end - speech_start:.2f} s fed, {took:.2f} s kept; "
          f"sentence edges vs silencedetect in the chapter MP3: worst {max(errors):.3f} s")

    # Removed, after asking: the page is synthetic again; the file is set aside.
    follow(pg, 'a[href="/"]')
    expect(pg.locator(".arbre")).to_contain_text("(enregistrée)")
    follow(pg, f'a[href="/page/{REF}"]')
    expect(pg.locator("#supprimer-voix")).to_be_visible()
    follow(pg, "#supprimer-voix")
    expect(pg.locator("h1")).to_have_text("Supprimer l'enregistrement ?")
    axe(pg, "removal asked")
    assert kept.is_file()
    follow(pg, "#confirmer-suppression")
    expect(pg.locator("#annonces")).to_contain_text("Enregistrement supprimé")
    expect(pg.locator("#voix")).to_contain_text("lue par la voix de synthèse")
    axe(pg, "recording removed")
    assert not kept.exists() and len(list((kept.parent / BACKUPS).iterdir())) == 1


def test_a_file_is_uploaded_and_a_wrong_one_refused_in_place(studio, pg, voice, tmp_path):
    pg.goto(studio.url + f"page/{REF}")
    bad = tmp_path / "lecture.mp3"
    bad.write_bytes(b"MZ\x90\x00 un programme, pas un son")
    choose_file(pg, "#fichier-voix", bad)
    tab_to(pg, "#deposer-prise button")
    pg.keyboard.press("Enter")
    expect(pg.locator("#prise [role=alert]")).to_contain_text("ne correspond pas à son nom")
    axe(pg, "upload refused")
    choose_file(pg, "#fichier-voix", voice[0])
    tab_to(pg, "#deposer-prise button")
    pg.keyboard.press("Enter")
    expect(pg.locator("#etat-voix")).to_contain_text("Prise enregistrée, durée")
    wait_audio(pg, "#prise")
    axe(pg, "uploaded take")
    follow(pg, "#garder")
    expect(pg.locator("#voix")).to_contain_text("recordings/introduction/bienvenue.wav")
    assert (studio.folder / "recordings" / CHAPTER / f"{PAGE}.wav").read_bytes() == voice[0].read_bytes()


def test_the_recorder_stops_itself_at_the_studio_s_maximum(studio, pg, monkeypatch):
    """No second key press: the recorder's own clock reaches the maximum, it stops and the take is shown."""
    from audioguide.studio import record as studio_record

    monkeypatch.setattr(studio_record, "MAX_TAKE_S", 2)
    pg.goto(studio.url + f"page/{REF}")
    expect(pg.locator(".enregistreur")).to_have_attribute("data-max", "2")
    tab_to(pg, "#enregistrer")
    pg.keyboard.press("Enter")
    expect(pg.locator("#etat-voix")).to_contain_text("Prise enregistrée, durée")
    wait_audio(pg, "#prise")
    assert float(pg.eval_on_selector("#duree-prise", "d => d.dataset.secondes")) >= 2
    assert pg.evaluate("() => document.activeElement.id") == "enregistrer"
    expect(pg.locator("#enregistrer")).to_have_text("Enregistrer à nouveau")


def test_a_refused_microphone_is_said_in_french_and_the_file_remains(studio, browser):
    # A second chromium from the same Playwright, whose fake permission prompt says no.
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream=deny"])
    try:
        pg = b.new_page()
        pg.set_default_timeout(WAIT_MS)
        pg.goto(studio.url + f"page/{REF}")
        tab_to(pg, "#enregistrer")
        pg.keyboard.press("Enter")
        expect(pg.locator("#erreur-micro")).to_contain_text("n'a pas accès au micro")
        expect(pg.locator("#erreur-micro")).to_have_attribute("role", "alert")
        expect(pg.locator("#enregistrer")).to_have_text("Enregistrer ma voix")
        expect(pg.locator("#fichier-voix")).to_be_visible()
        axe(pg, "microphone refused")
    finally:
        b.close()
