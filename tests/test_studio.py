"""The studio over real HTTP (uvicorn on a real socket): each safety rule shown refused, and the editing helpers."""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from html import unescape
from pathlib import Path

import httpx
import pytest

from audioguide.exceptions import AudioguideError
from audioguide.lock import OutputLock
from audioguide.studio import source
from audioguide.studio.server import StudioServer

from conftest import DATA, needs_tools

GRIPPE = DATA / "md" / "grippe"


def token(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


class Running:
    def __init__(self, folder: Path, cache: Path, **kw):
        self.server = StudioServer(folder, port=0, cache_dir=cache, **kw)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self.client = httpx.Client(base_url=self.server.base, timeout=120)

    def close(self):
        self.client.close()
        self.server.stop()
        self.thread.join()


@pytest.fixture
def studio(tmp_path):
    folder = tmp_path / "grippe"
    shutil.copytree(GRIPPE, folder)
    s = Running(folder, tmp_path / "cache")
    s.folder = folder
    yield s
    s.close()


def editor(s, ref="la-grippe/les-symptomes"):
    html = s.client.get(f"/page/{ref}").text
    return {"csrf": token(html), "ref": ref, "line": field(html, "line"), "version": field(html, "version"),
            "texte": unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1))}


# --- the address ---------------------------------------------------------------------------------------


def test_any_address_but_this_computer_needs_a_secret(tmp_path):
    with pytest.raises(AudioguideError, match="sans code secret"):
        StudioServer(tmp_path, host="0.0.0.0", port=0)
    run = subprocess.run([sys.executable, "-m", "audioguide", "studio", str(tmp_path), "--host", "0.0.0.0",
                          "--port", "0"], capture_output=True, text=True, env={**os.environ,
                                                                               "AUDIOGUIDE_STUDIO_SECRET": ""},
                         timeout=60)
    assert run.returncode != 0 and "--secret" in run.stderr and "Traceback" not in run.stderr


def test_with_a_secret_every_request_must_carry_it(tmp_path):
    s = Running(tmp_path / "g", tmp_path / "cache", host="127.0.0.1", secret="un-code-assez-long")
    try:
        r = s.client.get("/")
        assert r.status_code == 401 and "code secret" in r.text
        assert s.client.get("/?cle=faux-code-assez-long").status_code == 401
        r = s.client.get("/?cle=un-code-assez-long", follow_redirects=True)  # sets the cookie, then the page answers
        assert r.status_code == 200 and "Commencer un guide" in r.text
    finally:
        s.close()


def test_a_page_reached_by_another_host_name_is_refused(studio):
    """DNS rebinding: a site's own name pointed at 127.0.0.1 must not reach the studio."""
    r = studio.client.get("/", headers={"Host": "attaquant.example:80"})
    assert r.status_code == 421
    assert studio.client.get("/").status_code == 200


# --- CSRF ---------------------------------------------------------------------------------------------


def test_a_post_without_the_token_changes_nothing(studio):
    before = (studio.folder / "guide.md").read_bytes()
    form = editor(studio)
    form["texte"] = "### Les symptômes\n\nRemplacé par une autre page."
    for bad in ({**form, "csrf": ""}, {**form, "csrf": "x" * 43}):
        r = studio.client.post("/enregistrer", data=bad)
        assert r.status_code == 403 and "jeton de sécurité" in r.text
    r = studio.client.post("/enregistrer", data=form, headers={"Origin": "http://attaquant.example"})
    assert r.status_code == 403 and "autre site" in r.text
    assert (studio.folder / "guide.md").read_bytes() == before
    assert studio.client.request("PUT", "/enregistrer").status_code == 405


# --- uploads ------------------------------------------------------------------------------------------


def test_uploads_are_limited_in_size_and_checked_for_type(tmp_path):
    s = Running(tmp_path / "vide", tmp_path / "cache")
    try:
        csrf = token(s.client.get("/").text)
        big = b"PK\x03\x04" + b"0" * (20 * 1024 * 1024)
        r = s.client.post("/importer", data={"csrf": csrf}, files={"document": ("gros.docx", big)})
        assert r.status_code == 413 and "trop gros" in r.text
        r = s.client.post("/importer", data={"csrf": csrf}, files={"document": ("faux.docx", b"MZ\x90\x00 binaire")})
        assert r.status_code == 415 and "ne correspond pas" in r.text
        r = s.client.post("/importer", data={"csrf": csrf}, files={"document": ("outil.exe", b"MZ\x90\x00")})
        assert r.status_code == 415 and ".docx" in r.text
        assert list((tmp_path / "vide").iterdir()) == []
    finally:
        s.close()


# --- paths --------------------------------------------------------------------------------------------


def test_no_path_outside_the_guide_folder_can_be_read(studio, tmp_path):
    out = studio.folder / "sortie"
    out.mkdir()
    (out / "feed.xml").write_text("<rss/>")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", out / "lien.txt")
    (out / ".build-state.json").write_text("{}")
    (out / "sous").mkdir()
    (out / "sous" / ".cache").write_text("secret")
    assert studio.client.get("/sorties/feed.xml").status_code == 200
    for path in ("/sorties/../guide.md", "/sorties/%2e%2e/guide.md", "/sorties/..%2f..%2fsecret.txt",
                 "/sorties/lien.txt", "/sorties/.build-state.json", "/sorties//etc/passwd",
                 "/ecoute/..%2f..%2fsecret.txt", "/ecoute/0123456789abcdef.wav", "/page/../../etc/passwd",
                 "/sorties/..%5c..%5csecret.txt", "/sorties/feed.xml%00", "/sorties/sous", "/sorties/sous/.cache",
                 "/sorties/"):
        r = studio.client.get(path)
        assert r.status_code in (404, 409), path
        assert "secret" != r.text and "<rss" not in r.text.replace("rss+xml", "")


# --- two tabs -----------------------------------------------------------------------------------------


def test_a_stale_save_from_a_second_tab_is_refused(studio):
    first, second = editor(studio), editor(studio)
    first["texte"] = first["texte"].replace("brutalement", "soudainement")
    r = studio.client.post("/enregistrer", data=first)
    assert r.status_code == 303
    second["texte"] = second["texte"].replace("courbatures", "douleurs")
    r = studio.client.post("/enregistrer", data=second)
    assert r.status_code == 409 and "modifié ailleurs" in r.text
    assert ("<strong>Erreur :</strong> Ce guide a été modifié ailleurs (dans un autre onglet ou un autre programme) "
            "depuis que vous avez ouvert cette page : votre texte n'a pas été enregistré, pour ne pas effacer "
            "l'autre modification.</p>") in unescape(r.text)
    assert "douleurs" in r.text  # the refused text is still in the editor, to copy
    text = (studio.folder / "guide.md").read_text()
    assert "soudainement" in text and "courbatures" in text and "douleurs" not in text


def test_a_page_save_replaces_only_that_page(studio):
    form = editor(studio)
    before = (studio.folder / "guide.md").read_text()
    form["texte"] = form["texte"].replace("une forte fièvre", "une fièvre élevée")
    r = studio.client.post("/enregistrer", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/page/la-grippe/les-symptomes?enregistre=1"
    assert (studio.folder / "guide.md").read_text() == before.replace("une forte fièvre", "une fièvre élevée")
    # The whole file saved from its own editor: back to that editor.
    whole = studio.client.get("/fichier").text
    r = studio.client.post("/enregistrer", data={"csrf": token(whole), "ref": "", "line": "0",
                                                 "version": field(whole, "version"),
                                                 "texte": (studio.folder / "guide.md").read_text()})
    assert r.status_code == 303 and r.headers["location"] == "/fichier?enregistre=1"


def test_the_live_check_gives_check_s_own_problems(studio):
    from audioguide.exceptions import GuideError
    from audioguide.guide import load_guide

    form = editor(studio)
    form["texte"] += "\n\n[un lien](ftp://exemple.fr/)\n"
    html = studio.client.post("/verifier", data=form).text
    spliced = source.splice((studio.folder / "guide.md").read_text(), int(form["line"]), form["texte"])
    broken = studio.folder.parent / "broken" / "grippe"
    broken.mkdir(parents=True)
    (broken / "guide.md").write_text(spliced)
    with pytest.raises(GuideError) as err:
        load_guide(broken)
    problem = err.value.problems[0]
    assert f"guide.md, ligne {problem.line}" in html and problem.field in html
    assert problem.message.split(":")[0].replace("'", "&#39;") in html


# --- build lock ---------------------------------------------------------------------------------------


@needs_tools
def test_a_build_waits_for_the_cli_s_lock(studio):
    csrf = token(studio.client.get("/construire").text)
    with OutputLock(studio.folder / "sortie"):
        assert studio.client.post("/construire", data={"csrf": csrf}).status_code == 303
        studio.server.app.state.studio.job.thread.join()
    html = studio.client.get("/construire").text
    assert ("Une autre construction écrit déjà dans le dossier des sorties (lancée depuis un terminal ou un autre "
            "studio). Attendez qu'elle finisse, puis recommencez.") in unescape(html)
    assert not (studio.folder / "sortie" / "manifest.json").exists()


# --- lexicon ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, md, expect", [
    ("---\ntitle: T\n---\n\n# A\n", True, "---\ntitle: T\nlexicon:\n  ZPQR: \"zépécuère\"\n---\n\n# A\n"),
    ("---\ntitle: T\nlexicon:\n  ARS: spell\ndepth: 2\n---\n", True,
     "---\ntitle: T\nlexicon:\n  ARS: spell\n  ZPQR: \"zépécuère\"\ndepth: 2\n---\n"),
    ("---\nlexicon:\n  ZPQR: spell\n---\n", True, "---\nlexicon:\n  ZPQR: \"zépécuère\"\n---\n"),
    ("title: T\nlexicon:\n  ARS: spell\nparts: []\n", False,
     "title: T\nlexicon:\n  ARS: spell\n  ZPQR: \"zépécuère\"\nparts: []\n"),
])
def test_a_fix_goes_into_the_guide_s_lexicon(text, md, expect):
    assert source.add_lexicon(text, md, "ZPQR", "zépécuère") == expect


def test_a_word_with_a_space_is_quoted_and_a_long_fix_refused():
    assert source.add_lexicon("---\ntitle: T\n---\n", True, "Dr Ségur", "docteur ségure") == (
        '---\ntitle: T\nlexicon:\n  "Dr Ségur": "docteur ségure"\n---\n')
    assert "a" * 200 in source.add_lexicon("---\ntitle: T\n---\n", True, "AB", "a" * 200)
    with pytest.raises(AudioguideError, match="ne peut pas aller dans le lexique"):
        source.add_lexicon("---\ntitle: T\n---\n", True, "AB", "a" * 201)


def test_a_one_line_lexicon_is_not_rewritten():
    with pytest.raises(AudioguideError, match="une seule ligne") as err:
        source.add_lexicon("---\nlexicon: {A: b}\n---\n", True, "ZPQR", "z")
    assert err.value.fix == "écrivez-le une entrée par ligne, puis recommencez"


# --- build progress -----------------------------------------------------------------------------------


def test_the_time_left_is_estimated_from_the_time_spent():
    import time

    from audioguide.studio.jobs import Progress

    p = Progress(step="voix", done=0, total=10)
    assert p.eta() is None  # nothing to go on yet
    p.done, p.started = 5, time.monotonic() - 36.0  # half the synthesis: 2 % + 34 % of the build, in 36 s
    assert p.fraction == pytest.approx(0.36)
    assert p.eta() == 64
    p.update(finished=True)
    assert p.eta() is None and p.event()["percent"] == 100


# --- start --------------------------------------------------------------------------------------------


def _pdf(path: Path) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", "B", 20)
    pdf.cell(0, 12, "Guide du patient", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, "Vos droits", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 12)
    pdf.multi_cell(0, 8, "Vous pouvez demander votre dossier medical a tout moment.")
    return bytes(pdf.output())


@pytest.mark.parametrize("name, body", [
    ("guide.html", "<!DOCTYPE html><html lang='fr'><head><title>Guide du patient</title></head><body>"
                   "<h1>Guide du patient</h1><h2>Vos droits</h2><p>Vous pouvez demander votre dossier médical."
                   "</p><h2>Vos démarches</h2><p>Écrivez à l'hôpital.</p></body></html>"),
    ("guide.pdf", None),
])
def test_a_dropped_document_becomes_a_draft_with_its_report(tmp_path, name, body):
    s = Running(tmp_path / "patient", tmp_path / "cache")
    try:
        csrf = token(s.client.get("/").text)
        data = body.encode() if body else _pdf(tmp_path / name)
        r = s.client.post("/importer", data={"csrf": csrf}, files={"document": (name, data)},
                          follow_redirects=True)
        assert r.status_code == 200 and "Rapport d'import" in r.text and 'href="/page/' in r.text
        assert "Vos droits" in unescape(r.text)  # the draft's page, in the tree
        assert (tmp_path / "patient" / "guide.md").is_file()
        assert (tmp_path / "patient" / "import-report.txt").read_text() in unescape(r.text)
    finally:
        s.close()


def test_changes_wait_for_a_guide(tmp_path):
    s = Running(tmp_path / "vide", tmp_path / "cache")
    try:
        csrf = token(s.client.get("/").text)
        for path in ("/verifier", "/enregistrer", "/ecouter", "/construire", "/prononciation/garder"):
            r = s.client.post(path, data={"csrf": csrf, "texte": "x", "line": "0", "ref": "a/b"})
            assert r.status_code == 409 and "pas encore de guide" in r.text, path
        assert list((tmp_path / "vide").iterdir()) == []
    finally:
        s.close()


def test_the_studio_s_pages_refuse_to_be_framed_by_another_site(studio):
    r = studio.client.get("/")
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"  # the ?cle= secret never leaves in a Referer


@needs_tools
def test_the_build_takes_the_public_address_for_the_feed_and_shows_its_progress(studio):
    csrf = token(studio.client.get("/construire").text)
    r = studio.client.post("/construire", data={"csrf": csrf, "adresse": "https://asso.example/grippe/"})
    assert r.status_code == 303
    # The build's progress comes by server-sent events, step by step, to its end (one build for both checks).
    events = []
    with studio.client.stream("GET", "/construire/progression") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache" and r.headers["x-accel-buffering"] == "no"
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["finished"] and not events[-1]["error"] and events[-1]["percent"] == 100
    assert "chapitres" in events[-1]["summary"]
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents)
    order = ["lecture", "voix", "chapitres", "publication"]
    steps = [e["step"] for e in events]
    assert [order.index(s) for s in steps] == sorted(order.index(s) for s in steps) and len(set(steps)) >= 2
    studio.server.app.state.studio.job.thread.join()
    done = unescape(studio.client.get("/construire").text)
    assert re.search(r'<div id="fin" role="status">Construction terminée\. \d+ chapitres, \d+\.\d min '
                     r'\(\d+ extraits de voix synthétisés\)\. <a href="/sorties">Voir les sorties</a></div>', done)
    assert '<progress id="barre" max="100" value="100"' in done and '<div id="echec" role="alert"></div>' in done
    feed = (studio.folder / "sortie" / "feed.xml").read_text()
    assert '<atom:link href="https://asso.example/grippe/feed.xml" rel="self"' in feed
    # The outputs page serves the new feed, never one a browser kept from the last build.
    r = studio.client.get("/sorties/feed.xml")
    assert r.status_code == 200 and r.text == feed and r.headers["cache-control"] == "no-cache"
    assert r.headers["content-type"] == "application/rss+xml; charset=utf-8"
    outputs = unescape(studio.client.get("/sorties").text)
    assert "<h1>Les sorties du guide</h1>" in outputs
    manifest = json.loads((studio.folder / "sortie" / "manifest.json").read_text("utf-8"))
    # Each use named, each of its links served: the feed, both books, the kiosk, the whole MP3, every chapter.
    for use in ("Podcast", "Livre audio (EPUB, DAISY)", "Ligne téléphonique", "Borne", "Guide entier en MP3"):
        assert f"<h2>{use}</h2>" in outputs, use
    wanted = ["/sorties/feed.xml", "/sorties/" + manifest["downloads"]["epub"]["path"],
              "/sorties/" + manifest["downloads"]["daisy"]["path"], "/sorties/" + manifest["kiosk"],
              "/sorties/" + manifest["whole"]["mp3"], *("/sorties/" + c["mp3"] for c in manifest["chapters"])]
    links = re.findall(r'(?:href|src)="(/sorties/[^"]+)"', outputs)
    assert [w for w in wanted if w not in links] == [] and len(manifest["chapters"]) >= 2
    for link in set(links) - {"/sorties/ligne-telephonique.zip"}:
        got = studio.client.get(link)
        assert got.status_code == 200 and got.content, link
    at = [outputs.index(f"{c['title']}</h3>") for c in manifest["chapters"]]
    assert at == sorted(at)
    # The phone line's files in one zip, for the person who runs the telephone server; no hidden build state.
    import io
    import zipfile

    z = studio.client.get("/sorties/ligne-telephonique.zip")
    assert z.headers["content-disposition"] == 'attachment; filename="ligne-telephonique.zip"'
    assert z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "ligne-telephonique/extensions.conf" in names and "ligne-telephonique/guide.vxml" in names
    assert all(n.startswith("ligne-telephonique/") and "/." not in n for n in names)
    # A folder ready to copy to a web host: an index page whose every link is a file of the folder.
    r = studio.client.post("/publier", data={"csrf": csrf})
    assert r.status_code == 200 and "Dossier prêt à publier" in unescape(r.text)
    pub = studio.folder / "publication"
    index = (pub / "index.html").read_text("utf-8")
    assert index.startswith('<!DOCTYPE html>\n<html lang="fr">') and (pub / "feed.xml").read_text() == feed
    links = re.findall(r'href="([^"]+)"', index)
    assert links and all((pub / unescape(h)).is_file() for h in links if "://" not in h), links
    plain = [h for h in links if h.startswith("audio/") and re.fullmatch(r"audio/[\w-]+\.mp3", h)]
    # The index names the guide and each chapter in order, each with its download under a plain name.
    text = unescape(index)
    assert f"<title>{manifest['guide']['title']}</title>" in text and f"<h1>{manifest['guide']['title']}</h1>" in text
    assert f"<p>{manifest['guide']['description']}</p>" in text
    assert f"<p>Publié par {manifest['guide']['publisher']}.</p>" in text
    chapters = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> \(<a href="([^"]+)" download>télécharger</a>\)</li>',
                          text)
    assert [(h, t) for h, t, _ in chapters] == [(c["mp3"], c["title"]) for c in manifest["chapters"]]
    assert all(p == re.sub(r"\.[0-9a-f]{12}\.mp3$", ".mp3", h) and p != h for h, _, p in chapters)
    for label, key in (("livre EPUB 3", "epub"), ("livre DAISY 2.02 (zip)", "daisy")):
        assert f'<a href="{manifest["downloads"][key]["path"]}" download>{label}</a>' in text
    whole = re.sub(r"\.[0-9a-f]{12}\.mp3$", ".mp3", manifest["whole"]["mp3"])
    assert f'<a href="{whole}" download>un seul fichier MP3</a>' in text and (pub / whole).is_file()
    assert f'<a href="{manifest["kiosk"]}">la page de la borne</a>' in text
    assert f'<a href="{manifest["transcript"]["html"]}">le texte lu</a>' in text
    assert not any(p.name.startswith(".") for p in pub.rglob("*"))  # no build state published
    assert plain and all((pub / h).read_bytes() == next((pub / "audio").glob(h[6:-4] + ".*.mp3")).read_bytes()
                         for h in plain)


def test_a_bad_public_address_is_refused_before_the_build(studio):
    csrf = token(studio.client.get("/construire").text)
    r = studio.client.post("/construire", data={"csrf": csrf, "adresse": "ftp://asso.example/"})
    assert r.status_code == 409 and 'role="alert"' in r.text
    assert not (studio.folder / "sortie").exists()


def test_the_live_check_is_silent_while_its_problems_stay_the_same(studio):
    """Screen readers hear the check's region only when its problems change, not at every pause in typing."""
    form = editor(studio)
    first = studio.client.post("/verifier", data=form)
    assert first.status_code == 200 and "Aucun problème" in first.text
    again = studio.client.post("/verifier", data={**form, "signature": field(first.text, "signature"),
                                                   "texte": form["texte"] + " Encore une phrase."})
    assert again.status_code == 204 and again.text == ""
    broken = studio.client.post("/verifier", data={**form, "signature": field(first.text, "signature"),
                                                    "texte": form["texte"] + "\n\n[lien](ftp://exemple.fr/)"})
    assert broken.status_code == 200 and "ligne" in broken.text


@needs_tools
def test_a_fix_in_phonemes_is_heard_as_phonemes(studio):
    csrf = token(studio.client.get("/").text)
    r = studio.client.post("/prononciation/essai", data={"csrf": csrf, "mot": "ARS", "dire": "aRs",
                                                         "sorte": "phonemes"})
    assert r.status_code == 200
    said = unescape(re.search(r'data-clip-key="[0-9a-f]+">([^<]*)<', r.text).group(1))
    assert "[[aRs]]" in said  # espeak-ng is given the phonemes themselves
    assert 'aria-label="Écoute de « ARS » corrigé"' in unescape(r.text)
    assert "Garder « [[aRs]] » pour « ARS » dans le lexique du guide" in unescape(r.text)
    keep = studio.client.post("/prononciation/garder", data={"csrf": csrf, "mot": "ARS", "dire": "[[aRs]]"})
    assert keep.status_code == 303
    assert 'ARS: "[[aRs]]"' in (studio.folder / "guide.md").read_text()


def test_a_new_guide_takes_the_title_typed_on_the_start_page(tmp_path):
    s = Running(tmp_path / "vide", tmp_path / "cache")
    try:
        start = s.client.get("/").text
        assert "<h1>Commencer un guide</h1>" in start
        r = s.client.post("/nouveau", data={"csrf": token(start), "titre": "  Le guide « essai »  "})
        assert r.status_code == 303 and r.headers["location"] == "/"
        text = (tmp_path / "vide" / "guide.md").read_text("utf-8")
        assert 'title: "Le guide « essai »"\n' in text
        home = unescape(s.client.get("/").text)
        assert "<h1>Votre guide</h1>" in home and "guide.md" in home
        # A second guide is refused, and says why, in French; the first is kept.
        r = s.client.post("/nouveau", data={"csrf": token(home), "titre": "Autre"})
        assert r.status_code == 400 and "Cela n'a pas marché" in unescape(r.text)
        assert (tmp_path / "vide" / "guide.md").read_text("utf-8") == text
    finally:
        s.close()


def test_help_pages_and_the_page_heard_in_the_editor(studio):
    for topic, title in (("podcast", "Publier le podcast"), ("telephone", "Ouvrir une ligne téléphonique")):
        r = studio.client.get(f"/aide/{topic}")
        assert r.status_code == 200 and f"<h1>{title}</h1>" in unescape(r.text)
    r = studio.client.get("/aide/autre")
    assert r.status_code == 404 and "<p>Page d'aide introuvable.</p>" in unescape(r.text)
    csrf = token(studio.client.get("/").text)
    r = studio.client.post("/ecouter", data={"csrf": csrf, "ref": "la-grippe/les-symptomes", "allure": "lent"})
    assert r.status_code == 200, r.text
    src = re.search(r'src="(/ecoute/[0-9a-f]{16}\.wav)"', r.text).group(1)
    assert '<p class="ok">Écoute de la page prête.</p>' in unescape(r.text)
    assert f'<audio controls autoplay src="{src}" aria-label="Écoute de la page">' in unescape(r.text)
    wav = studio.client.get(src)
    assert wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF" and len(wav.content) > 44100
    r = studio.client.post("/ecouter", data={"csrf": csrf, "ref": "la-grippe/les-symptomes", "allure": "vite"})
    assert r.status_code == 400 and "Allure inconnue" in r.text
    r = studio.client.post("/ecouter", data={"csrf": csrf, "ref": "la-grippe/nulle-part"})
    assert "n'a pas de page" in unescape(r.text) and "nulle-part" in unescape(r.text)
    gone = studio.client.get("/ecoute/0123456789abcdef.wav")
    assert gone.status_code == 404 and "<p>Cette écoute n'existe plus.</p>" in unescape(gone.text)
    # A forged form (a line that is no number) and a fix that says nothing: refused in words.
    r = studio.client.post("/enregistrer", data={"csrf": csrf, "line": "abc", "texte": "x", "version": "v"})
    assert r.status_code == 400 and "Demande mal formée : rechargez la page." in unescape(r.text)
    r = studio.client.post("/prononciation/essai", data={"csrf": csrf, "mot": "Ségur", "dire": ""})
    assert r.status_code == 400 and "« Ségur » ou «  » ne peut pas aller dans le lexique." in unescape(r.text)
    assert 'role="alert"' in r.text and "<html" not in r.text  # shown in place, beside the word


def test_the_pronunciation_page_lists_words_and_keeps_a_fix(studio):
    guide = studio.folder / "guide.md"
    guide.write_text(guide.read_text("utf-8").rstrip("\n") + "\n\nLe XKQZ vous aide.\n", "utf-8")
    page = studio.client.get("/prononciation")
    assert page.status_code == 200 and "<h1>Prononciation</h1>" in page.text
    found = unescape(studio.client.get("/prononciation/resultats").text)
    words = re.findall(r"<h3 id=\"m-[\d-]+\">([^<]+)</h3>", found)
    assert "XKQZ" in words and "<h2 id=\"p-1\">Où et quand › Le calendrier</h2>" in found, found
    assert "<p>sigle absent du lexique : dit « X.K.Q.Z. ».</p>" in found
    # Asked again while the guide is unchanged: the same audit, shown at once on the page itself.
    assert words == re.findall(r"<h3 id=\"m-[\d-]+\">([^<]+)</h3>", unescape(studio.client.get("/prononciation").text))
    r = studio.client.post("/prononciation/garder", data={"csrf": token(page.text), "mot": "ZPQR", "dire": "zépé"})
    assert r.status_code == 303 and r.headers["location"] == "/prononciation?garde=ZPQR"
    assert '  ZPQR: "zépé"\n' in (studio.folder / "guide.md").read_text("utf-8")
    assert "« ZPQR » est dans le lexique du guide." in unescape(studio.client.get(r.headers["location"]).text)


# --- what a maker sees before a build, and with a YAML guide ------------------------------------------------


def test_a_yaml_guide_s_home_lists_its_intro_parts_and_pages_and_a_page_opens_the_whole_file(tmp_path):
    folder = tmp_path / "mini"
    shutil.copytree(DATA / "mini", folder)
    s = Running(folder, tmp_path / "cache")
    try:
        home = unescape(s.client.get("/").text)
        assert "<h1>Votre guide</h1>" in home and "guide.yaml" in home
        titles = ["Introduction", "Bienvenue", "Santé", "Le DMP", "Qu'est-ce que c'est ?", "Attention"]
        at = [home.index(t) for t in titles]
        assert at == sorted(at), at  # in the guide's order: intro, then the part, its chapter and its pages
        for ref in ("introduction/bienvenue", "dmp/quest-ce-que-cest", "dmp/attention"):
            assert f'href="/page/{ref}"' in home
        html = s.client.get("/page/dmp/quest-ce-que-cest").text
        assert field(html, "line") == "0"  # a YAML guide is edited whole
        text = unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1))
        assert text.strip() == (folder / "guide.yaml").read_text("utf-8").strip()
        assert "<h1>Page « Qu'est-ce que c'est ? »</h1>" in unescape(html)
    finally:
        s.close()


def test_publishing_and_the_phone_zip_before_any_build_say_to_build_first(studio):
    csrf = token(studio.client.get("/").text)
    r = studio.client.post("/publier", data={"csrf": csrf})
    assert r.status_code == 400
    assert "<strong>Erreur :</strong> Le guide n'est pas encore construit : il n'y a rien à publier.</p>" \
        in unescape(r.text)
    assert "construisez-le d'abord (page « Construire »)" in unescape(r.text)
    assert not (studio.folder / "publication").exists()
    r = studio.client.get("/sorties/ligne-telephonique.zip")
    assert r.status_code == 404 and "Construisez d'abord le guide." in unescape(r.text)
    r = studio.client.get("/sorties")
    assert r.status_code == 200 and "Le guide n'est pas encore construit." in unescape(r.text)


def test_an_import_without_a_file_and_files_of_the_wrong_kind_are_refused_in_words(tmp_path):
    s = Running(tmp_path / "vide", tmp_path / "cache")
    try:
        csrf = token(s.client.get("/").text)
        r = s.client.post("/importer", data={"csrf": csrf})
        assert r.status_code == 400 and "<strong>Erreur :</strong> Aucun fichier reçu.</p>" in unescape(r.text)
        assert "choisissez un fichier Word, PDF ou web" in unescape(r.text)
        r = s.client.post("/importer", data={"csrf": csrf}, files={"document": ("outil.exe", b"MZ\x90\x00")})
        assert r.status_code == 415
        assert "<strong>Erreur :</strong> « outil.exe » n'est pas un document que le studio sait importer." \
            in unescape(r.text)
        assert "<strong>Que faire :</strong> déposez un fichier Word (.docx), PDF (.pdf) ou une page web (.html)" \
            in unescape(r.text)
        for name, body, kind in (("faux.docx", b"%PDF-1.4", "Word"), ("faux.pdf", b"PK\x03\x04", "PDF"),
                                 ("faux.html", b"PK\x03\x04", "page web"), ("faux.htm", b"%PDF-1.4", "page web")):
            r = s.client.post("/importer", data={"csrf": csrf}, files={"document": (name, body)})
            assert r.status_code == 415, name
            assert f"« {name} » ne contient pas un fichier {kind} : son contenu ne correspond pas à son nom." \
                in unescape(r.text)
            assert "ouvrez-le dans son logiciel et enregistrez-le de nouveau au bon format" in unescape(r.text)
        assert list((tmp_path / "vide").iterdir()) == []
    finally:
        s.close()


def test_a_saved_web_page_is_taken_whatever_it_starts_with(tmp_path):
    s = Running(tmp_path / "fiche", tmp_path / "cache")
    try:
        csrf = token(s.client.get("/").text)
        for head in ("\ufeff \r\n<!DOCTYPE html>", "<!-- enregistré -->", "<meta charset=utf-8>", "<TITLE>x</TITLE>",
                     "<body>", "<h1>Guide</h1>", "<div>", "<head>", "<html>", "<p>Intro</p>"):
            body = head + "<h1>La fiche</h1><h2>Vos droits</h2><p>Vous pouvez demander votre dossier.</p>"
            r = s.client.post("/importer", data={"csrf": csrf},
                              files={"document": ("Ma fiche.HTM", body.encode("utf-8"))})
            assert r.status_code == 303, (head, unescape(r.text))
            guide, report = tmp_path / "fiche" / "guide.md", tmp_path / "fiche" / "import-report.txt"
            assert "Vous pouvez demander votre dossier." in guide.read_text("utf-8")
            assert report.read_text("utf-8").startswith("Imported from Ma-fiche.html.")  # a plain name, .html
            guide.unlink()
            report.unlink()
    finally:
        s.close()


def test_the_studio_answers_its_own_names_and_serves_outputs_without_its_frame_rules(studio):
    port = studio.server.app.state.studio.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost"):
        assert studio.client.get("/", headers={"Host": host}).status_code == 200, host
    out = studio.folder / "sortie"
    out.mkdir()
    (out / "feed.xml").write_text("<rss/>")
    r = studio.client.get("/sorties/feed.xml")
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert "x-frame-options" not in r.headers and "content-security-policy" not in r.headers
    page = studio.client.get("/")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["content-security-policy"] == (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'")
    # A form posted from a page opened as a file (Origin: null) still needs the token, and passes with it.
    form = editor(studio)
    r = studio.client.post("/enregistrer", data=form, headers={"Origin": "null"})
    assert r.status_code == 303


def test_a_fix_kept_again_replaces_the_word_s_line_and_odd_words_are_quoted(studio):
    csrf = token(studio.client.get("/").text)
    for word, say in (("ARS", "a.r.s"), ("l’ARS", "la.r.s"), ("ARS", "agence"), ("Dr Ségur", 'le "docteur"')):
        r = studio.client.post("/prononciation/garder", data={"csrf": csrf, "mot": word, "dire": say})
        assert r.status_code == 303, unescape(r.text)
    text = (studio.folder / "guide.md").read_text("utf-8")
    front = text.split("---\n")[1]
    assert front.endswith('lexicon:\n  ARS: "agence"\n  "l’ARS": "la.r.s"\n  "Dr Ségur": "le \\"docteur\\""\n'
                          'depth: 3\n')
    # The guide still loads, with the lexicon the maker typed.
    from audioguide.guide import load_guide

    assert load_guide(studio.folder).lexicon == {"ARS": "agence", "l’ARS": "la.r.s", "Dr Ségur": 'le "docteur"'}


@pytest.mark.parametrize("rest", ["", "\n---\n\nFin du guide.\n"], ids=["no-rule", "a-rule-further-down"])
def test_a_fix_for_a_guide_without_details_at_the_top_says_what_to_add(studio, rest):
    """A `---` line further down (a horizontal rule) is no front matter either: the fix is refused, the file kept."""
    guide = studio.folder / "guide.md"
    text = guide.read_text("utf-8").split("---\n", 2)[2] + rest
    guide.write_text(text, "utf-8")
    csrf = token(studio.client.get("/prononciation").text)
    r = studio.client.post("/prononciation/garder", data={"csrf": csrf, "mot": "ARS", "dire": "a.r.s"})
    assert r.status_code == 400
    assert "<strong>Erreur :</strong> Le guide n'a pas de détails en tête (entre deux lignes ---).</p>" \
        in unescape(r.text)
    assert "ajoutez en haut : --- puis title: … puis ---" in unescape(r.text)
    assert guide.read_text("utf-8") == text


def test_a_save_that_points_at_no_heading_is_refused_and_the_file_kept(studio):
    form = editor(studio)
    before = (studio.folder / "guide.md").read_text("utf-8")
    line = int(form["line"]) + 2  # a line of text under the page's heading
    r = studio.client.post("/enregistrer", data={**form, "line": str(line), "texte": "### Autre\n\nTexte."})
    assert r.status_code == 409
    assert f"La ligne {line} n'est pas un titre de page." in unescape(r.text) and "rechargez la page" in r.text
    assert (studio.folder / "guide.md").read_text("utf-8") == before


# --- a page's voice, before any take ----------------------------------------------------------------------------


def test_a_page_s_voice_before_any_take_and_takes_refused_before_they_are_heard(studio):
    ref = "la-grippe/les-symptomes"
    voice = unescape(studio.client.get(f"/voix/page/{ref}").text)
    assert "elle n'a pas encore d'enregistrement" in voice
    assert "(au plus 15 min 00 s)" in voice and "20 Mo au plus" in voice
    r = studio.client.get(f"/voix/fichier/{ref}")
    assert r.status_code == 404 and "Cette page n'a pas d'enregistrement." in unescape(r.text)
    csrf = token(studio.client.get("/").text)
    r = studio.client.post("/voix/supprimer", data={"csrf": csrf, "ref": ref})
    assert r.status_code == 303 and r.headers["location"] == f"/page/{ref}"  # nothing to remove
    r = studio.client.post("/voix/prise", data={"csrf": csrf, "ref": ref})
    assert r.status_code == 400 and "Aucun fichier son reçu." in unescape(r.text)
    assert "<p><strong>Que faire :</strong> choisissez un fichier son</p>" in unescape(r.text)
    r = studio.client.post("/voix/prise", data={"csrf": csrf, "ref": ref}, files={"fichier": ("notes.txt", b"x")})
    assert r.status_code == 415
    assert "« notes.txt » n'est pas un fichier son que le studio sait lire." in unescape(r.text)
    assert "déposez un fichier WAV, FLAC, MP3, M4A, OGG ou WebM" in unescape(r.text)
    for name, head in (("a.wav", b"RIFF\x00\x00\x00\x00AVI "), ("a.flac", b"OggS"), ("a.mp3", b"\xff\x10"),
                       ("a.m4a", b"\x00\x00\x00\x20moov"), ("a.ogg", b"fLaC"), ("a.webm", b"RIFF")):
        r = studio.client.post("/voix/prise", data={"csrf": csrf, "ref": ref},
                               files={"fichier": (name, head + bytes(64))})
        kind = name.rsplit(".", 1)[1].upper()
        assert r.status_code == 415, name
        assert f"« {name} » ne contient pas un son {kind} : son contenu ne correspond pas à son nom." \
            in unescape(r.text)
        assert "exportez l'enregistrement de nouveau depuis votre logiciel, en WAV ou en MP3" in unescape(r.text)
    assert not (studio.folder / "recordings").exists()


def test_a_recording_the_guide_names_itself_is_neither_replaced_nor_removed(studio):
    guide = studio.folder / "guide.md"
    text = guide.read_text("utf-8").replace("### Les symptômes", '### Les symptômes {recording="lu/symptomes.wav"}')
    guide.write_text(text, "utf-8")
    ref = "la-grippe/les-symptomes"
    csrf = token(studio.client.get("/").text)
    r = studio.client.post("/voix/supprimer", data={"csrf": csrf, "ref": ref})
    assert r.status_code == 400, unescape(r.text)
    assert ("Le guide donne lui-même l'enregistrement de cette page (recording: lu/symptomes.wav) : le studio ne le "
            "remplace pas et ne le supprime pas.") in unescape(r.text)
    assert "changez ou retirez la ligne « recording: » de la page dans le guide, puis revenez ici" in unescape(r.text)
    assert guide.read_text("utf-8") == text
    # Its page says whose file it is and that it is missing, with nothing to play or remove.
    voice = unescape(studio.client.get(f"/voix/page/{ref}").text)
    assert "Cette page est lue par une voix humaine : <code>lu/symptomes.wav</code>." in voice
    assert '<div class="erreur" role="alert"><p><strong>Erreur :</strong>' in voice and "lu/symptomes.wav" in voice
    assert "Le guide donne cet enregistrement (<code>recording:</code>) : pour le changer, modifiez le guide." in voice
    assert "<audio" not in voice and "supprimer-voix" not in voice
    assert studio.client.get(f"/voix/fichier/{ref}").status_code == 404


def test_pages_that_need_a_guide_or_a_build_send_the_maker_back_or_say_why(tmp_path):
    s = Running(tmp_path / "vide", tmp_path / "cache")
    try:
        for path in ("/fichier", "/page/a/b", "/prononciation"):
            r = s.client.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/", path
        r = s.client.get("/construire/progression")
        assert r.status_code == 404 and "Aucune construction lancée." in unescape(r.text)
        start = unescape(s.client.get("/").text)
        assert "20 Mo" in start  # the largest document the start page takes
    finally:
        s.close()


def test_a_guide_with_errors_opens_whole_and_its_pages_wait(studio):
    guide = studio.folder / "guide.md"
    guide.write_text(guide.read_text("utf-8") + "\n[un lien](ftp://exemple.fr/)\n", "utf-8")
    r = studio.client.get("/page/la-grippe/les-symptomes")
    assert r.status_code == 409
    assert "Le guide a des erreurs : corrigez-les dans le fichier entier d'abord." in unescape(r.text)
    whole = unescape(studio.client.get("/fichier").text)
    assert "<h1>Le fichier guide.md</h1>" in whole and "ftp://exemple.fr/" in whole and "ligne" in whole
    home = unescape(studio.client.get("/").text)
    assert "Le guide a des erreurs : le plan s'affichera quand elles seront corrigées." in home
    assert "guide.md, ligne" in home and 'href="/page/' not in home


def test_the_secret_goes_into_a_strict_cookie_and_out_of_the_address(tmp_path):
    s = Running(tmp_path / "g", tmp_path / "cache", host="127.0.0.1", secret="un-code-assez-long")
    try:
        r = s.client.get("/aide/podcast?cle=un-code-assez-long")
        assert r.status_code == 303 and r.headers["location"] == "/aide/podcast"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("audioguide_studio=un-code-assez-long;")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert s.client.get("/aide/podcast").status_code == 200  # the cookie carries it now
        assert "code secret" in httpx.get(s.server.base + "/aide/podcast").text  # not without it
    finally:
        s.close()


def test_htmx_s_token_header_renamed_pages_and_the_whole_check_of_a_page_that_moved(studio):
    form = editor(studio)
    # htmx sends the page's token in a header rather than in the form.
    r = studio.client.post("/verifier", data={k: v for k, v in form.items() if k != "csrf"},
                           headers={"X-CSRF-Token": form["csrf"]})
    assert r.status_code == 200 and "Aucun problème" in r.text
    # A line that is no longer a page's heading (the file changed): the text is checked as the whole file.
    r = studio.client.post("/verifier", data={**form, "line": "2", "texte": "# Sans détails\n\n## Page\n\nTexte.\n"})
    assert r.status_code == 200 and "title" in r.text and "Aucun problème" not in r.text
    # A page saved under a new title has a new address: back to the guide's home, which lists it.
    form = editor(studio, "la-grippe/les-symptomes-2")
    form["texte"] = form["texte"].replace("### Les symptômes", "### Les signes", 1)
    r = studio.client.post("/enregistrer", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/?enregistre=1"
    assert 'href="/page/la-grippe/les-signes"' in studio.client.get("/").text


def test_the_pronunciation_page_asked_for_everything_lists_the_words_at_once(studio):
    guide = studio.folder / "guide.md"
    guide.write_text(guide.read_text("utf-8").rstrip("\n") + "\n\nLe XKQZ vous aide.\n", "utf-8")
    first = unescape(studio.client.get("/prononciation").text)
    assert "XKQZ" not in first  # the audit takes seconds: the page asks for it in the background
    found = unescape(studio.client.get("/prononciation?tout=1").text)
    assert '">XKQZ</h3>' in found and "sigle absent du lexique" in found


def test_a_body_sent_in_chunks_past_the_limit_is_refused(tmp_path):
    from audioguide.studio import safety

    s = Running(tmp_path / "vide", tmp_path / "cache")
    try:
        csrf = token(s.client.get("/").text)

        def chunks():
            yield (b"--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + csrf.encode() + b"\r\n--x\r\n"
                   b"Content-Disposition: form-data; name=\"document\"; filename=\"gros.docx\"\r\n\r\nPK\x03\x04")
            for _ in range(safety.MAX_BODY // 2**20 + 2):
                yield b"0" * 2**20

        r = s.client.post("/importer", content=chunks(), headers={"content-type": "multipart/form-data; boundary=x"})
        assert r.status_code == 413 and "trop gros (plus de 20 Mo)" in unescape(r.text)
        assert list((tmp_path / "vide").iterdir()) == []
    finally:
        s.close()


def test_unknown_pages_wrong_methods_a_busy_port_and_a_short_secret_are_said_in_french(studio, tmp_path):
    r = studio.client.get("/nulle-part")
    assert r.status_code == 404 and "Page introuvable dans le studio." in unescape(r.text)
    r = studio.client.post("/aide/podcast", data={"csrf": "x"})
    assert r.status_code == 405 and "Méthode refusée : le studio ne modifie rien autrement que par un formulaire." \
        in unescape(r.text)
    icon = studio.client.get("/favicon.ico")
    assert icon.headers["content-type"] == "image/svg+xml" and b"<svg" in icon.content
    port = studio.server.port
    with pytest.raises(AudioguideError) as err:
        StudioServer(tmp_path / "autre", port=port)
    assert err.value.message == f"Le studio ne peut pas écouter sur 127.0.0.1:{port} : Address already in use."
    assert err.value.fix == "choisissez un autre --port (par exemple --port 8766)"
    with pytest.raises(AudioguideError, match="Le code secret du studio est trop court."):
        StudioServer(tmp_path / "autre", port=0, secret="court")
    s = StudioServer(tmp_path / "autre", port=0, secret="un code assez long")
    try:
        assert s.address == f"http://127.0.0.1:{s.port}/?cle=un%20code%20assez%20long"
    finally:
        s.sock.close()
        shutil.rmtree(s.app.state.studio.listen_dir)


def test_a_title_on_two_lines_is_not_written_into_the_new_guide(tmp_path):
    s = Running(tmp_path / "vide", tmp_path / "cache")
    try:
        r = s.client.post("/nouveau", data={"csrf": token(s.client.get("/").text), "titre": "Ligne une\nLigne deux"})
        assert r.status_code == 303
        text = (tmp_path / "vide" / "guide.md").read_text("utf-8")
        assert "Ligne" not in text and text.count("\ntitle: ") == 1
        from audioguide.guide import load_guide

        assert load_guide(tmp_path / "vide").title  # the starter guide's own title, valid
    finally:
        s.close()


@pytest.mark.french
def test_a_dropped_word_file_becomes_a_draft_and_a_damaged_one_is_refused_in_words(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Vos droits", 1)
    d.add_paragraph("Vous pouvez demander votre dossier médical.")
    d.save(tmp_path / "droits.docx")
    s = Running(tmp_path / "patient", tmp_path / "cache")
    try:
        csrf = token(s.client.get("/").text)
        r = s.client.post("/importer", data={"csrf": csrf}, files={"document": ("abimé.docx", b"PK\x03\x04abime")})
        assert r.status_code == 400
        assert "<strong>Erreur :</strong> Impossible de lire abimé.docx comme un document Word (BadZipFile).</p>" \
            in unescape(r.text)
        assert "<strong>Que faire :</strong> ouvrez-le dans Word ou LibreOffice et enregistrez-le à nouveau en .docx" \
            in unescape(r.text)
        assert list((tmp_path / "patient").iterdir()) == []
        r = s.client.post("/importer", data={"csrf": csrf},
                          files={"document": ("droits.docx", (tmp_path / "droits.docx").read_bytes())})
        assert r.status_code == 303
        assert "Vous pouvez demander votre dossier médical." in (tmp_path / "patient" / "guide.md").read_text()
    finally:
        s.close()


# --- what the maker sees of the refusals and pages (each checked by hand against its mutant) -----------------


def test_a_form_posted_from_the_studio_s_own_page_passes_and_the_refusals_say_why_in_full(studio):
    """A browser sends its page's Origin with every form: the studio's own address must pass."""
    form = editor(studio)
    form["texte"] = form["texte"].replace("une forte fièvre", "une fièvre élevée")
    r = studio.client.post("/enregistrer", data={**form, "csrf": ""})
    assert r.status_code == 403
    assert ("Demande refusée : elle ne vient pas d'une page du studio (jeton de sécurité absent ou faux). "
            "Rechargez la page du studio et recommencez.") in unescape(r.text)
    r = studio.client.post("/enregistrer", data=form, headers={"Origin": "http://attaquant.example"})
    assert r.status_code == 403
    assert '<p>Demande refusée : elle vient d\'un autre site que le studio.</p>' in unescape(r.text)
    r = studio.client.post("/enregistrer", data=form, headers={"Origin": studio.server.base.rstrip("/")})
    assert r.status_code == 303, unescape(r.text)
    assert "une fièvre élevée" in (studio.folder / "guide.md").read_text("utf-8")


def test_the_pages_load_htmx_say_errors_under_their_own_title_and_name_no_server(studio):
    home = studio.client.get("/")
    assert "server" not in home.headers  # nothing that names the web server's software to a scanner
    script = re.search(r'<script src="(/static/htmx-[\d.]+\.min\.js)" defer></script>', home.text).group(1)
    assert studio.client.get(script).status_code == 200
    r = studio.client.post("/importer", data={"csrf": token(home.text)})
    assert r.status_code == 400 and "<title>Cela n'a pas marché – Studio audioguide</title>" in unescape(r.text)
    r = studio.client.get("/aide/inconnue")
    assert r.status_code == 404 and "<p>Page d'aide introuvable.</p>" in unescape(r.text)
    r = studio.client.get("/ecoute/0123456789abcdef.wav")
    assert r.status_code == 404 and "<p>Cette écoute n'existe plus.</p>" in unescape(r.text)


def test_a_page_s_editor_names_its_chapter_and_offers_every_pace(studio):
    from audioguide.config import PACES

    html = unescape(studio.client.get("/page/la-grippe/les-symptomes").text)
    assert "<p>Chapitre : La grippe, c'est quoi ?. " in html
    assert re.findall(r'<option value="([^"]+)"', html) == list(PACES)


def test_a_refused_save_keeps_the_page_s_title_and_its_listening(studio):
    form = editor(studio)
    form["page_title"] = "Les symptômes"  # the editor's hidden field, sent back by the browser
    other = editor(studio)
    other["texte"] = other["texte"].replace("une forte fièvre", "une fièvre élevée")
    assert studio.client.post("/enregistrer", data=other).status_code == 303  # saved meanwhile from another tab
    r = studio.client.post("/enregistrer", data=form)
    assert r.status_code == 409
    assert '<input type="hidden" name="page_title" value="Les symptômes">' in unescape(r.text)


def test_a_studio_on_another_loopback_address_answers_there(tmp_path):
    s = Running(tmp_path / "g", tmp_path / "cache", host="127.0.0.2")
    try:
        r = s.client.get("/")
        assert s.server.base.startswith("http://127.0.0.2:") and r.status_code == 200, unescape(r.text)
    finally:
        s.close()


def test_an_address_refused_at_start_says_why_and_what_to_do(tmp_path):
    with pytest.raises(AudioguideError) as err:
        StudioServer(tmp_path, host="0.0.0.0", port=0)
    assert err.value.message == ("Le studio refuse d'écouter sur 0.0.0.0 sans code secret : tout le réseau pourrait "
                                 "modifier le guide et lancer des constructions.")
    assert err.value.fix == ("donnez un code secret avec --secret CODE (ou la variable AUDIOGUIDE_STUDIO_SECRET), "
                             "ou gardez l'adresse 127.0.0.1")
    with pytest.raises(AudioguideError) as err:
        StudioServer(tmp_path, port=0, secret="court")
    assert err.value.fix == "choisissez au moins 12 caractères"
    name = "x" * 64 + ".example"  # a name no resolver takes (a label over 63 characters), asked of no DNS
    with pytest.raises(AudioguideError) as err:
        StudioServer(tmp_path, host=name, port=0, secret="un-code-assez-long")
    assert err.value.message == f"Le studio ne peut pas écouter sur {name!r} : adresse inconnue."
    assert err.value.fix == "gardez l'adresse 127.0.0.1"


def test_a_bad_public_address_is_said_on_the_build_page_itself(studio):
    csrf = token(studio.client.get("/construire").text)
    r = studio.client.post("/construire", data={"csrf": csrf, "adresse": "ftp://asso.example/"})
    html = unescape(r.text)
    assert r.status_code == 409 and "<title>Construire le guide – Studio audioguide</title>" in html
    assert '<form method="post" action="/construire">' in html  # the form to try again, on the same page


@needs_tools
def test_a_build_refused_by_its_folder_says_why_on_the_build_page(studio):
    out = studio.folder / "sortie"
    out.mkdir()
    (out / "notes-perso.txt").write_text("à garder")
    csrf = token(studio.client.get("/construire").text)
    assert studio.client.post("/construire", data={"csrf": csrf}).status_code == 303
    studio.server.app.state.studio.job.thread.join()
    html = unescape(studio.client.get("/construire").text)
    failed = re.search(r'<div id="echec" role="alert">(.*?)</div>', html, re.S).group(1)
    assert "notes-perso.txt" in failed and "--out" in failed, failed
    assert (out / "notes-perso.txt").read_text() == "à garder" and not (out / "manifest.json").exists()


def test_the_time_left_at_the_very_end_is_none_left():
    import time

    from audioguide.studio.jobs import Progress

    p = Progress(step="publication", done=1, total=1)
    p.started = time.monotonic() - 100.0
    assert p.eta() == 0


def test_outputs_without_an_epub_nor_a_whole_mp3_are_shown_and_published_by_their_names(studio):
    """A build's manifest as the outputs page and the publish step read it, written by hand (no build): a
    feed and a transcript under other names than the usual, a DAISY book but no EPUB, no whole-guide MP3."""
    out = studio.folder / "sortie"
    (out / "audio").mkdir(parents=True)
    (out / "audio" / "01-comprendre.0123456789ab.mp3").write_bytes(b"ID3" + bytes(64))
    (out / "podcast.xml").write_text("<rss/>")
    (out / "texte.html").write_text("<p>Texte</p>")
    (out / "manifest.json").write_text(json.dumps({
        "guide": {"title": "La grippe", "description": "Un guide.", "publisher": "Asso"},
        "chapters": [{"title": "Comprendre", "mp3": "audio/01-comprendre.0123456789ab.mp3", "duration": 3.0}],
        "feed": "podcast.xml", "kiosk": "kiosk/index.html", "transcript": {"html": "texte.html"},
        "downloads": {"daisy": {"path": "livres/guide-daisy.zip"}}}), "utf-8")
    page = unescape(studio.client.get("/sorties").text)
    assert '<a href="/sorties/livres/guide-daisy.zip" download>Télécharger le livre DAISY (zip)</a>' in page
    assert "livre EPUB" not in page and '<a href="/sorties/podcast.xml">' in page
    r = studio.client.post("/publier", data={"csrf": token(page)})
    assert r.status_code == 200 and "Dossier prêt à publier" in unescape(r.text)
    index = unescape((studio.folder / "publication" / "index.html").read_text("utf-8"))
    assert '<a href="podcast.xml">le flux du podcast</a>' in index
    assert 'type="application/rss+xml" title="La grippe" href="podcast.xml"' in index
    assert '<a href="texte.html">le texte lu</a>' in index
    assert '<a href="livres/guide-daisy.zip" download>livre DAISY 2.02 (zip)</a>' in index
    assert '<li><a href="audio/01-comprendre.0123456789ab.mp3">Comprendre</a> (<a href="audio/01-comprendre.mp3" ' \
           'download>télécharger</a>)</li>' in index
    assert (studio.folder / "publication" / "audio" / "01-comprendre.mp3").read_bytes() == b"ID3" + bytes(64)


def test_the_live_check_of_a_page_that_moved_checks_the_text_sent(studio):
    form = editor(studio)
    whole = (studio.folder / "guide.md").read_text("utf-8") + "\n[un lien](ftp://exemple.fr/)\n"
    r = studio.client.post("/verifier", data={**form, "line": "2", "texte": whole})  # line 2: no heading now
    assert r.status_code == 200 and "ftp://exemple.fr/" in unescape(r.text), unescape(r.text)


def test_the_pronunciation_of_a_guide_with_errors_is_said_in_place(studio):
    guide = studio.folder / "guide.md"
    guide.write_text(guide.read_text("utf-8") + "\n[un lien](ftp://exemple.fr/)\n", "utf-8")
    r = studio.client.get("/prononciation/resultats")
    assert r.status_code == 400 and r.text.startswith('<div class="erreur" role="alert"><p><strong>Erreur :</strong>')
    assert "<html" not in r.text  # a fragment, swapped into the page that asked for it


def test_a_fix_that_would_make_the_guide_loop_is_refused_with_what_to_do(studio):
    csrf = token(studio.client.get("/").text)
    r = studio.client.post("/prononciation/garder", data={"csrf": csrf, "mot": "ZPQR", "dire": "XKQZ"})
    assert r.status_code == 303, unescape(r.text)
    before = (studio.folder / "guide.md").read_text("utf-8")
    r = studio.client.post("/prononciation/garder", data={"csrf": csrf, "mot": "XKQZ", "dire": "ZPQR"})
    html = unescape(r.text)
    assert r.status_code == 400 and "Cette correction rendrait le guide invalide : " in html, html
    assert "<p><strong>Que faire :</strong> écrivez la prononciation autrement</p>" in html
    assert (studio.folder / "guide.md").read_text("utf-8") == before
