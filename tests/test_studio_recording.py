"""Recording a page in the studio (issue 28), over real HTTP: a take uploaded, sniffed, decoded by ffmpeg and
assessed, then kept at recordings/<chapter>/<page>.<ext> inside the guide's folder, the old one set aside; removed
after asking; every refusal in French, nothing written outside the folder. The microphone itself is in
test_studio_recording_browser.py."""

from __future__ import annotations

import re
import subprocess
from html import unescape
from pathlib import Path

import pytest
from test_recordings import reading
from test_studio import Running, token

from audioguide.guide import load_guide
from audioguide.recordings.find import EXTENSIONS, find
from audioguide.recordings.store import BACKUPS, page_texts
from audioguide.studio import safety
from audioguide.studio.record import audio_kind

from conftest import DATA, needs_tools

pytestmark = [needs_tools, pytest.mark.e2e]
pytest.importorskip("librosa")
REF = "la-grippe/les-symptomes"


@pytest.fixture
def studio(tmp_path):
    import shutil

    folder = tmp_path / "grippe"
    shutil.copytree(DATA / "md" / "grippe", folder)
    s = Running(folder, tmp_path / "cache")
    s.folder = folder
    s.csrf = token(s.client.get(f"/page/{REF}").text)
    yield s
    s.close()


@pytest.fixture(scope="module")
def take_wav(tmp_path_factory) -> Path:
    """Another espeak-ng voice reading the page's words, with room noise and silence around: a volunteer's take."""
    import shutil

    root = tmp_path_factory.mktemp("take")
    shutil.copytree(DATA / "md" / "grippe", root / "g")
    guide = load_guide(root / "g" / "guide.md")
    wav = root / "take.wav"
    reading(page_texts(guide, *REF.split("/")), wav, hesitate_s=0.6)
    return wav


def encoded(wav: Path, ext: str) -> bytes:
    out = wav.with_name(f"take{ext}")
    if not out.exists():
        codec = ["-c:a", "libopus"] if ext == ".webm" else []
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), *codec, str(out)], check=True)
    return out.read_bytes()


def send(s, name: str, data: bytes, csrf: str | None = "ok", ref: str = REF):
    fields = {"ref": ref} | ({"csrf": s.csrf if csrf == "ok" else csrf} if csrf else {})
    return s.client.post("/voix/prise", data=fields, files={"fichier": (name, data, "application/octet-stream")})


def taken(html: str) -> str:
    return re.search(r'name="prise" value="([^"]+)"', html).group(1)


def keep(s, name: str, ref: str = REF):
    return s.client.post("/voix/garder", data={"csrf": s.csrf, "ref": ref, "prise": name})


def status(s, ref: str = REF) -> str:
    return unescape(s.client.get(f"/voix/page/{ref}").text)


def test_an_uploaded_take_is_heard_assessed_then_kept_in_the_guide_folder(studio, take_wav):
    assert "voix de synthèse" in status(studio)
    r = send(studio, "ma lecture.wav", take_wav.read_bytes())
    assert r.status_code == 200, r.text
    html = unescape(r.text)
    m = re.search(r"Durée de la lecture : (\d+) s ; le texte de la page se lit en (\d+) s environ", html)
    assert m and int(m.group(1)) > 5 and int(m.group(2)) > 5, html
    assert 'data-annonce="Prise enregistrée, durée' in html and "Attention" not in html, html
    name = taken(r.text)
    heard = studio.client.get(f"/voix/ecoute/{name}")
    assert heard.status_code == 200 and heard.headers["content-type"] == "audio/wav"
    assert heard.content == take_wav.read_bytes()
    assert not (studio.folder / "recordings").exists()  # nothing kept before "Garder"
    r = keep(studio, name)
    assert r.status_code == 303 and r.headers["location"] == f"/page/{REF}?voix=gardee"
    kept = studio.folder / "recordings" / "la-grippe" / "les-symptomes.wav"
    assert kept.read_bytes() == take_wav.read_bytes()
    assert find(load_guide(studio.folder / "guide.md")) == {("la-grippe", "les-symptomes"): kept}
    now = status(studio)
    assert "lue par une voix humaine : <code>recordings/la-grippe/les-symptomes.wav</code>" in now
    assert f"Durée de la lecture : {m.group(1)} s" in now
    assert studio.client.get(f"/voix/fichier/{REF}").content == kept.read_bytes()
    assert "Enregistrement gardé" in studio.client.get(f"/page/{REF}?voix=gardee").text
    assert "(enregistrée)" in studio.client.get("/").text  # the plan marks the page
    assert studio.client.get(f"/voix/ecoute/{name}").status_code == 404  # the take was moved, not copied twice


@pytest.mark.french
def test_every_accepted_format_is_taken_and_its_content_sniffed(studio, take_wav):
    for ext in EXTENSIONS:
        data = take_wav.read_bytes() if ext == ".wav" else encoded(take_wav, ext)
        assert audio_kind(f"x{ext}", data[:64]) == ext
        r = send(studio, f"lecture{ext.upper()}", data)
        assert r.status_code == 200 and "Prise enregistrée" in unescape(r.text), (ext, r.text)
    for name, data, said in [("lecture.wav", b"ID3\x04" + bytes(60), "ne correspond pas à son nom"),
                             ("lecture.txt", b"RIFF\x00\x00\x00\x00WAVE", "que le studio sait lire"),
                             ("lecture.mp3", b"MZ\x90\x00 un programme", "ne correspond pas à son nom")]:
        r = send(studio, name, data)
        assert r.status_code == 415 and said in unescape(r.text), (name, r.text)
    # The right first bytes, but not a sound: ffmpeg cannot read it; the page is named, no take is kept.
    r = send(studio, "lecture.wav", b"RIFF\x00\x00\x00\x00WAVEfmt pas vraiment un son")
    assert r.status_code == 400 and "Page la-grippe/les-symptomes" in unescape(r.text)
    assert "ne peut pas être lu" in unescape(r.text)
    # Asked by the recorder or htmx, the refusal is a fragment the page shows in place.
    r = studio.client.post("/voix/prise", data={"csrf": studio.csrf, "ref": REF}, headers={"HX-Request": "true"},
                           files={"fichier": ("prise.webm", b"pas un son", "audio/webm")})
    assert r.status_code == 200 and 'role="alert"' in r.text and "<html" not in r.text
    assert not (studio.folder / "recordings").exists()


@pytest.mark.french
def test_a_clipped_take_is_warned_about_in_french(studio, tmp_path):
    loud = tmp_path / "fort.wav"
    reading(page_texts(load_guide(studio.folder / "guide.md"), *REF.split("/")), loud, gain=6.0)
    html = unescape(send(studio, "fort.wav", loud.read_bytes()).text)
    assert "Attention :</strong> Page la-grippe/les-symptomes : l'enregistrement fort.wav sature" in html
    assert "avertissement." in html


@pytest.mark.french
def test_uploads_keep_the_studio_s_safety_rules(studio, take_wav, tmp_path):
    data = take_wav.read_bytes()
    for csrf in (None, "faux-jeton"):
        r = send(studio, "lecture.wav", data, csrf=csrf)
        assert r.status_code == 403 and "Demande refusée" in unescape(r.text)
    r = send(studio, "longue.wav", data[:44] + bytes(safety.MAX_BODY))
    assert r.status_code == 413 and "trop gros" in r.text
    assert send(studio, "lecture.wav", data, ref="la-grippe/pas-de-page").status_code == 404
    name = taken(send(studio, "lecture.wav", data).text)
    r = studio.client.post("/voix/garder", data={"ref": REF, "prise": name})
    assert r.status_code == 403
    for forged in ("../../grippe/guide.md", "0123456789abcdef.txt", "guide.md"):
        assert keep(studio, forged).status_code == 404
    assert studio.client.get("/voix/ecoute/..%2f..%2fguide.md").status_code == 404
    assert not (studio.folder / "recordings").exists()
    # A recordings folder that is a link out of the guide's folder: refused, nothing written there.
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (studio.folder / "recordings").symlink_to(outside)
    r = keep(studio, name)
    assert r.status_code == 400
    assert "Le dossier recordings/la-grippe mène hors du dossier du guide" in unescape(r.text)
    assert "remplacez ce lien par un vrai dossier « recordings » dans le dossier du guide" in unescape(r.text)
    assert list(outside.rglob("*")) == []


def test_a_new_take_sets_the_old_recording_aside(studio, take_wav):
    """The old recording, even in another format that find() would prefer, moves to anciennes/: the page is
    read by the new take, and nothing is lost."""
    old = studio.folder / "recordings" / "la-grippe" / "les-symptomes.wav"
    old.parent.mkdir(parents=True)
    old.write_bytes(take_wav.read_bytes())
    name = taken(send(studio, "prise.webm", encoded(take_wav, ".webm")).text)
    assert keep(studio, name).status_code == 303
    new = old.with_suffix(".webm")
    assert find(load_guide(studio.folder / "guide.md")) == {("la-grippe", "les-symptomes"): new}
    aside, = (old.parent / BACKUPS).iterdir()
    assert re.fullmatch(r"les-symptomes\.\d{4}-\d\d-\d\d-\d{6}\.wav", aside.name)
    assert aside.read_bytes() == take_wav.read_bytes()
    assert new.read_bytes() == encoded(take_wav, ".webm")
    # The check command does not take the set-aside file for a page's recording, nor for a misspelt one.
    from click.testing import CliRunner

    from audioguide.cli import cli

    out = CliRunner().invoke(cli, ["check", str(studio.folder / "guide.md")])
    assert "ne correspond à aucune page" not in out.output and "la-grippe/les-symptomes" in out.output


def test_removing_a_recording_asks_first_and_sets_it_aside(studio, take_wav):
    rec = studio.folder / "recordings" / "la-grippe" / "les-symptomes.wav"
    rec.parent.mkdir(parents=True)
    rec.write_bytes(take_wav.read_bytes())
    r = studio.client.post("/voix/supprimer", data={"csrf": studio.csrf, "ref": REF})
    assert r.status_code == 200 and "Supprimer l'enregistrement ?" in unescape(r.text)
    assert ("Le fichier <code>recordings/la-grippe/les-symptomes.wav</code> n'est pas effacé : il est mis de côté "
            "dans <code>recordings/la-grippe/anciennes/</code>.") in unescape(r.text)
    assert 'name="confirme" value="oui"' in r.text and rec.is_file()  # asked, nothing done yet
    assert studio.client.post("/voix/supprimer", data={"ref": REF, "confirme": "oui"}).status_code == 403
    assert rec.is_file()
    r = studio.client.post("/voix/supprimer", data={"csrf": studio.csrf, "ref": REF, "confirme": "oui"})
    assert r.status_code == 303 and r.headers["location"] == f"/page/{REF}?voix=supprimee"
    assert not rec.exists() and [p.suffix for p in (rec.parent / BACKUPS).iterdir()] == [".wav"]
    assert find(load_guide(studio.folder / "guide.md")) == {}
    assert "voix de synthèse" in status(studio)
    assert studio.client.get(f"/voix/fichier/{REF}").status_code == 404


@pytest.mark.french
def test_a_silent_take_says_no_voice_is_heard_and_an_unreadable_one_says_what_to_do(studio, tmp_path):
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes(bytes(2 * 44100 * 3))
    html = unescape(send(studio, "muet.wav", buf.getvalue()).text)
    assert "Page la-grippe/les-symptomes : on n'entend aucune voix dans muet.wav" in html, html
    assert "2 avertissements." in html and "alors que son texte" not in html  # silent: no length warning
    r = send(studio, "casse.wav", b"RIFF\x00\x00\x00\x00WAVEfmt pas vraiment un son")
    text = unescape(r.text)
    assert "Erreur :</strong> Page la-grippe/les-symptomes : l'enregistrement casse.wav" in text, text
    assert "Que faire :</strong> enregistrez la page à nouveau" in text


def test_takes_replaced_within_one_second_are_all_set_aside(tmp_path, take_wav, monkeypatch):
    """Four takes of a page kept in the same second (the clock stopped here): the three older ones are all in
    anciennes/, numbered in order; a file that is not a recording format is refused with the formats named."""
    from audioguide.exceptions import AudioguideError
    from audioguide.recordings import store

    monkeypatch.setattr(store, "_stamp", lambda: "2026-01-02-030405")
    for _ in range(4):
        dest, _moved = store.keep(tmp_path, "ch", "pg", take_wav, ".wav")
    assert dest == tmp_path / "recordings" / "ch" / "pg.wav"
    assert sorted(p.name for p in (tmp_path / "recordings" / "ch" / "anciennes").iterdir()) == [
        "pg.2026-01-02-030405-2.wav", "pg.2026-01-02-030405-3.wav", "pg.2026-01-02-030405.wav"]
    with pytest.raises(AudioguideError) as err:
        store.keep(tmp_path, "ch", "pg", take_wav, ".txt")
    assert "“.txt” is not a recording format" in str(err.value) and "wav, flac, mp3, m4a, ogg or webm" in str(err.value)


@pytest.mark.french
def test_a_kept_recording_that_cannot_be_read_is_said_on_its_page_and_served_as_its_type(studio, take_wav):
    kept = studio.folder / "recordings" / "la-grippe" / "les-symptomes.wav"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt pas vraiment un son")
    voice = status(studio)
    assert "Erreur :</strong> Page la-grippe/les-symptomes : l'enregistrement recordings/la-grippe/" \
           "les-symptomes.wav" in voice, voice
    kept.write_bytes(take_wav.read_bytes())
    r = studio.client.get(f"/voix/fichier/{REF}")
    assert r.headers["content-type"] == "audio/wav" and r.content == take_wav.read_bytes()
    # A guide with errors: its pages wait, and the voice panel says so in full.
    guide = studio.folder / "guide.md"
    guide.write_text(guide.read_text("utf-8") + "\n[un lien](ftp://exemple.fr/)\n", "utf-8")
    r = studio.client.get(f"/voix/page/{REF}")
    assert r.status_code == 409
    assert "<p>Le guide a des erreurs : corrigez-les d'abord, puis enregistrez la page.</p>" in unescape(r.text)


@pytest.mark.french
def test_a_wav_over_4_gb_style_and_an_mp3_without_tags_are_taken(studio, take_wav):
    """RF64 (the WAV of long recorders) and an MP3 that starts straight with its first frame (no ID3 tag)."""
    for name, args in (("long.wav", ["-rf64", "always"]), ("nu.mp3", ["-id3v2_version", "0", "-write_xing", "0"])):
        out = take_wav.with_name(name)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(take_wav), *args, str(out)], check=True)
        data = out.read_bytes()
        assert data[:4] in (b"RF64", b"\xff\xfb", b"\xff\xf3") or data[0] == 0xFF, data[:4]
        r = send(studio, name, data)
        assert r.status_code == 200 and "Prise enregistrée" in unescape(r.text), (name, unescape(r.text))
