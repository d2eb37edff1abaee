"""`audioguide catalogue build` on this machine, in-process: the summary, the exit status and the index files a
maker or a podcast app reads (index.html, catalogue.json, feeds.opml), for a tiny guide written here.

Real espeak-ng and ffmpeg; no Dask cluster (test_catalogue.py runs real ones, too slow to run per mutant).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil

import pytest
from click.testing import CliRunner
from lxml import etree

from audioguide.catalogue import SHARED, guide_settings, load_catalogue
from audioguide.cli import cli
from audioguide.config import BuildSettings
from audioguide.exceptions import AudioguideError, ConfigError
from audioguide.i18n import set_language

from conftest import needs_tools

pytestmark = [needs_tools]
# stdout and stderr apart: click 8.2 and later always, 8.1 (gTTS's pin) when asked.
SEPARATE = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}
GUIDE = """\
id: fait-main
title: "Un guide & <le test>"
subtitle: Pour les tests du catalogue
publisher: Association Test
language: fr-FR
date: 2024-05-02
chapters:
  - id: rendez-vous
    title: Le rendez-vous
    pages:
      - id: avant
        title: Avant
        blocks:
          - p: Apportez votre carte Vitale.
"""
BROKEN = GUIDE.replace("id: fait-main", "id: cassé").replace("title: Le rendez-vous\n", "titre: oups\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One catalogue: a good guide, a broken one, one listed but absent, one with the good one's id."""
    tmp = tmp_path_factory.mktemp("catalogue")
    cat = tmp / "cat"
    for name, text in (("fait-main", GUIDE), ("zz-casse", BROKEN), ("copie", GUIDE)):
        (cat / name).mkdir(parents=True)
        (cat / name / "guide.yaml").write_text(text, "utf-8")
    (cat / "catalogue.yaml").write_text(
        "title: Les guides <de l'association>\nbase_url: https://exemple.fr/g/\npace: lent\npitch: 40\n"
        "guides: [' fait-main ', zz-casse, absent, copie]\n", "utf-8")
    out = tmp / "out"
    set_language("en")  # the autouse language fixture comes after this module-wide one
    run = CliRunner(**SEPARATE).invoke(cli, ["catalogue", "build", str(cat), "--out", str(out), "--cache",
                                             str(tmp / "cache"), "-j", "1"], env={"LANGUAGE": "en"})
    set_language()
    return cat, out, run


def test_summary_and_exit_status_name_each_guide(built):
    cat, out, run = built
    assert run.exit_code == 1, run.output
    lines = run.stdout.splitlines()
    manifest = json.loads((out / "fait-main" / "manifest.json").read_text("utf-8"))
    ok = [line for line in lines if line.startswith("OK ")]
    assert len(ok) == 1 and ok[0].startswith("OK      fait-main: ") and ok[0].endswith(" files encoded.")
    assert int(ok[0].split(": ")[1].split()[0]) > 0  # clips synthesised by this first build
    assert lines[-1] == f"1 guide(s) built, 3 failed; index: {out / 'index.html'}."
    err = run.stderr
    # Each failure: the guide's id (or folder), then its message indented under it.
    assert f"FAILED  {cat / 'zz-casse'}:\n  " in err and "titre" in err
    assert f"FAILED  {cat / 'absent'}:\n  " in err
    assert "FAILED  fait-main:\n  " in err and str(cat / "copie") in err and str(cat / "fait-main") in err
    assert "each guide of a catalogue is built into a folder named after its id" in err
    assert "give one of them another `id:` in its guide file" in err
    assert "Traceback" not in run.output and manifest["guide"]["id"] == "fait-main"


def test_shared_settings_reach_the_guide(built):
    cat, out, run = built
    m = json.loads((out / "fait-main" / "manifest.json").read_text("utf-8"))
    assert m["guide"]["base_url"] == "https://exemple.fr/g/fait-main/"
    assert m["engine"]["rate"] == 115 and m["engine"]["pitch"] == 40  # pace: lent, pitch: 40
    assert not (out / "cassé").exists() and not (out / "copie").exists()


def test_catalogue_json_lists_the_built_guide_and_the_failures(built):
    cat, out, run = built
    text = (out / "catalogue.json").read_text("utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"  # readable by a person
    m = json.loads((out / "fait-main" / "manifest.json").read_text("utf-8"))
    assert data["format"] == 1 and data["title"] == "Les guides <de l'association>"
    [g] = data["guides"]
    assert {k: g[k] for k in ("id", "title", "subtitle", "publisher", "language", "folder", "manifest", "base_url",
                              "chapters")} == {
        "id": "fait-main", "title": "Un guide & <le test>", "subtitle": "Pour les tests du catalogue",
        "publisher": "Association Test", "language": "fr-FR", "folder": "fait-main/",
        "manifest": "fait-main/manifest.json", "base_url": "https://exemple.fr/g/fait-main/", "chapters": 1}
    assert g["duration"] == round(m["chapters"][0]["duration"], 3) > 1
    assert g["feed"] == "fait-main/feed.xml" and g["feed_url"] == "https://exemple.fr/g/fait-main/feed.xml"
    assert g["kiosk"] == "fait-main/kiosk/index.html" and g["whole_mp3"].startswith("fait-main/fait-main-complet.")
    assert g["epub"] == "fait-main/fait-main.epub" and g["daisy"] == "fait-main/fait-main-daisy.zip"
    assert g["phone"]["readme"] == "fait-main/phone/README.md" and g["phone"]["menu"] == "fait-main/phone/menu.json"
    for key in ("manifest", "feed", "kiosk", "whole_mp3", "epub", "daisy"):
        assert (out / g[key]).is_file(), key
    assert all((out / p).exists() for p in g["phone"].values())
    assert "last_build_failed" not in g
    failed = {f["source"].rsplit("/", 1)[-1]: f for f in data["failed"]}
    assert list(failed) == ["zz-casse", "absent", "copie"]
    assert failed["zz-casse"]["id"] is None and "titre" in failed["zz-casse"]["error"]
    assert failed["copie"]["id"] == "fait-main" and str(cat / "fait-main") in failed["copie"]["error"]


def test_index_page_and_opml(built):
    cat, out, run = built
    page = (out / "index.html").read_text("utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="fr">\n')
    assert "<title>Les guides &lt;de l&#x27;association&gt;</title>" in page
    assert "<h1>Les guides &lt;de l&#x27;association&gt;</h1>" in page
    assert '<a href="feeds.opml">Tous les podcasts (OPML)</a>' in page
    assert "<h2>Un guide &amp; &lt;le test&gt;</h2><p>Pour les tests du catalogue</p>" in page
    assert "<p>1 chapitres, environ 0 minutes.</p>" in page
    for href, text in (("fait-main/kiosk/index.html", "Écouter dans le navigateur"),
                       ("fait-main/feed.xml", "S'abonner (podcast)"), ("fait-main/fait-main.epub", "Livre EPUB 3"),
                       ("fait-main/fait-main-daisy.zip", "Livre DAISY 2.02"),
                       ("fait-main/phone/README.md", "Serveur vocal")):
        assert f'<li><a href="{href}">{text.replace(chr(39), "&#x27;")}</a></li>' in page
    assert 'Tout le guide en un fichier MP3</a></li>' in page
    opml = etree.fromstring((out / "feeds.opml").read_bytes())
    assert opml.get("version") == "2.0" and opml.findtext("head/title") == "Les guides <de l'association>"
    assert (out / "feeds.opml").read_text("utf-8") == (
        "<?xml version='1.0' encoding='UTF-8'?>\n<opml version=\"2.0\">\n  <head>\n"
        "    <title>Les guides &lt;de l'association&gt;</title>\n  </head>\n  <body>\n"
        '    <outline type="rss" text="Un guide &amp; &lt;le test&gt;" title="Un guide &amp; &lt;le test&gt;" '
        'xmlUrl="https://exemple.fr/g/fait-main/feed.xml"/>\n  </body>\n</opml>\n')
    [outline] = opml.findall("body/outline")
    assert dict(outline.attrib) == {"type": "rss", "text": "Un guide & <le test>", "title": "Un guide & <le test>",
                                    "xmlUrl": "https://exemple.fr/g/fait-main/feed.xml"}


def test_a_guide_that_fails_later_stays_listed_from_its_last_build(built, tmp_path):
    cat, out, run = built
    cat2, out2 = tmp_path / "cat", tmp_path / "out"
    shutil.copytree(cat, cat2)
    shutil.copytree(out, out2)
    # Its last build had no subtitle: the index shows none.
    m = json.loads((out2 / "fait-main" / "manifest.json").read_text("utf-8"))
    m["guide"]["subtitle"] = None
    (out2 / "fait-main" / "manifest.json").write_text(json.dumps(m), "utf-8")
    # This time the guide fails after its id is known (a voice espeak-ng does not have).
    (cat2 / "catalogue.yaml").write_text("guides: [fait-main, zz-casse]\nvoice: zz-inconnue\n", "utf-8")
    again = CliRunner(**SEPARATE).invoke(cli, ["catalogue", "build", str(cat2), "--out", str(out2), "--cache",
                                     str(tmp_path / "cache")])
    assert again.exit_code == 1 and again.stdout.splitlines()[-1].startswith("0 guide(s) built, 2 failed;")
    data = json.loads((out2 / "catalogue.json").read_text("utf-8"))
    assert data["title"] == "cat"  # no title: the folder's name
    [g] = data["guides"]
    assert g["id"] == "fait-main" and g["last_build_failed"] is True and g["feed"] == "fait-main/feed.xml"
    assert [f["id"] for f in data["failed"]] == ["fait-main", None]
    assert ("<h2>Un guide &amp; &lt;le test&gt;</h2><p>1 chapitres, environ 0 minutes (dernière construction en échec"
            " : version précédente).</p>") in (out2 / "index.html").read_text()
    # A broken last manifest: the guide is listed as failed only.
    (out2 / "fait-main" / "manifest.json").write_text("{", "utf-8")
    CliRunner().invoke(cli, ["catalogue", "build", str(cat2), "--out", str(out2), "--cache", str(tmp_path / "c")])
    data = json.loads((out2 / "catalogue.json").read_text("utf-8"))
    assert data["guides"] == [] and len(data["failed"]) == 2
    assert b"<body>\n" in (out2 / "feeds.opml").read_bytes() or b"<body/>" in (out2 / "feeds.opml").read_bytes()


def test_a_folder_of_guides_in_name_order(tmp_path):
    for name, f in (("b", "guide.yaml"), ("a", "guide.md"), ("c", "notes.txt")):
        (tmp_path / name).mkdir()
        (tmp_path / name / f).write_text("x", "utf-8")
    (tmp_path / "d.yaml").write_text("x", "utf-8")
    cat = load_catalogue(tmp_path)
    assert cat.guides == [tmp_path / "a", tmp_path / "b"] and cat.title == tmp_path.name and cat.shared == {}
    with pytest.raises(ConfigError) as err:
        load_catalogue(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(err.value) and "not found" in str(err.value)
    assert "give a folder of guide folders, or a catalogue.yaml file" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_catalogue(tmp_path / "c")
    assert "guide.yaml or guide.md" in str(err.value) and "catalogue.yaml" in str(err.value)


def test_catalogue_yaml_fields(tmp_path):
    f = tmp_path / "catalogue.yaml"
    f.write_text("title: T\nguides: [' a ', b]\nrate: 150\nvoice: fr\nengine: espeak\n", "utf-8")
    cat = load_catalogue(f)
    assert cat.title == "T" and cat.guides == [tmp_path / "a", tmp_path / "b"]
    assert cat.shared == {"rate": 150, "voice": "fr", "engine": "espeak"} and cat.source == f
    for text, words in (("guides: [a]\nrate: true\n", ["`rate`", "True", "not a number"]),
                        ("guides: [a]\npitch: haut\n", ["`pitch`", "'haut'", "not a number"]),
                        ("guides: [a]\nvoice: 3\n", ["`voice`", "3 is not a text"]),
                        ("guides: [a]\npace: vite\n", ["`pace`", "'vite' is not one of lent, normal"]),
                        ("guides: [a, 3]\n", ["`guides`"]), ("guides: []\n", ["`guides`"]),
                        ("guides: ['  ']\n", ["`guides`"]), ("title: x\n", ["`guides`"]),
                        ("guides: [a]\nzut: 1\nabc: 2\n",
                         ["unknown field(s) abc, zut (known: title, guides, " + ", ".join(SHARED) + ")"]),
                        ("- a\n", ["expected `guides:` and settings, found list"])):
        f.write_text(text, "utf-8")
        with pytest.raises(ConfigError) as err:
            load_catalogue(tmp_path)
        assert str(f) in str(err.value), text
        for w in words:
            assert w in str(err.value), (text, w)
    f.write_text("title: x\nguides: [a\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalogue(tmp_path)
    assert f"{f}:3: this is not valid YAML (expected ',' or ']', but got '<stream end>')." in str(err.value)
    assert "check the indentation and the colons near that line" in str(err.value)
    f.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError) as err:
        load_catalogue(f)
    assert f"{f}: cannot be read (" in str(err.value) and str(err.value).endswith("check the file")


def test_guide_settings_command_line_then_catalogue(tmp_path):
    base = BuildSettings(rate=170, pitch=30, cache_dir=tmp_path)
    s = guide_settings(base, {}, tmp_path / "out", "g")
    assert (s.out_dir, s.rate, s.rate_given, s.pitch, s.progress) == (tmp_path / "out" / "g", 170, True, 30, False)
    s = guide_settings(BuildSettings(), {"pace": "lent", "base_url": "https://x.fr/a//"}, tmp_path, "é t")
    assert (s.rate, s.rate_given, s.pace, s.base_url) == (115, False, "lent", "https://x.fr/a/%C3%A9%20t/")
    s = guide_settings(base, {"rate": 100, "voice": "fr-fr"}, tmp_path, "g")
    assert (s.rate, s.voice, s.pitch) == (100, "fr-fr", 30)


@pytest.mark.french
def test_unreachable_scheduler_in_french(tmp_path):
    from audioguide.catalogue import build_catalogue

    (tmp_path / "cat" / "g").mkdir(parents=True)
    (tmp_path / "cat" / "g" / "guide.yaml").write_text(GUIDE, "utf-8")
    with pytest.raises(AudioguideError) as err:
        build_catalogue(tmp_path / "cat", tmp_path / "out", BuildSettings(progress=False),
                        scheduler="tcp://127.0.0.1:9")
    assert "Impossible de joindre l'ordonnanceur Dask tcp://127.0.0.1:9" in str(err.value)
    assert "dask scheduler" in str(err.value) and not (tmp_path / "out").exists()
    assert re.search(r"aucun ordonnanceur ne répond à cette adresse \((OSError|TimeoutError|ValueError): ",
                     str(err.value)), str(err.value)


@pytest.mark.french
def test_without_dask_the_scheduler_option_says_what_to_install(monkeypatch):
    import sys

    from audioguide.catalogue.cluster import Cluster

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the `cluster` extra were not installed
    with pytest.raises(AudioguideError) as err:
        Cluster("tcp://127.0.0.1:9")
    text = str(err.value)
    assert "Le calcul sur une grappe Dask n'est pas installé." in text
    assert re.search(r"^[^\n]+ : --scheduler a besoin des paquets dask et distributed$", text, re.M), text
    assert "audioguide[cluster]" in text


def tree(folder) -> dict[str, bytes]:
    """The published files. Not the journal, nor the build state: its list of warnings to say again depends on
    the process's log level and language (this module's builds run in the same process as other tests)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in (".audioguide-files.jsonl", ".build-state.json")}


@pytest.mark.french
def test_clips_made_by_an_in_process_dask_cluster_give_the_local_bytes(built, tmp_path, monkeypatch, capsys):
    """The clips come back from a Dask worker (a thread here): the guide's files are the local build's bytes."""
    if "MUTANT_UNDER_TEST" in os.environ:  # set ("" or a name) in every phase of script/mutation
        # A Dask cluster started in mutmut's own process (its clean run) leaves threads that the mutants' forked
        # workers lack: they hang. speak_clip is tested below; test_catalogue.py runs real clusters.
        pytest.skip("an in-process Dask cluster hangs in mutmut's forked workers")
    from distributed import LocalCluster

    from audioguide.catalogue import build_catalogue

    cat, out, run = built
    (tmp_path / "cat").mkdir()
    shutil.copytree(cat / "fait-main", tmp_path / "cat" / "fait-main")
    (tmp_path / "cat" / "catalogue.yaml").write_text(
        "base_url: https://exemple.fr/g/\npace: lent\npitch: 40\nguides: [fait-main]\n", "utf-8")
    monkeypatch.setenv("AUDIOGUIDE_WORKER_CACHE", str(tmp_path / "worker-cache"))
    clips = []
    # No default Client here: `catalogue build --scheduler` has none either, and must not need one.
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        result = build_catalogue(tmp_path / "cat", tmp_path / "out", BuildSettings(cache_dir=tmp_path / "cache",
                                                                                   progress=False),
                                 scheduler=cluster.scheduler_address, on_clip=lambda: clips.append(1))
    assert not result.failed and result.outcomes[0].synthesized == len(clips) > 0
    assert len(list((tmp_path / "worker-cache").rglob("*.wav"))) == len(clips)
    assert tree(tmp_path / "out" / "fait-main") == tree(out / "fait-main")
    assert f"Grappe Dask {cluster.scheduler_address} : 1 machine(s) de calcul ; tableau de bord Dask : http" \
        in capsys.readouterr().err


def test_a_worker_makes_the_client_s_clip_or_says_why_not(tmp_path, monkeypatch):
    """What a Dask worker runs (cluster.speak_clip): the clip's WAV bytes, the client's own, from the engine the
    client describes; a worker whose engine makes other clips refuses, naming the fix."""
    from audioguide.catalogue.cluster import engine_spec, speak_clip
    from audioguide.exceptions import EngineError
    from audioguide.tts import get_engine
    from audioguide.tts.cache import ClipCache, clip_key

    monkeypatch.setenv("AUDIOGUIDE_WORKER_CACHE", str(tmp_path / "worker"))
    s = BuildSettings(pace="lent", pitch=40, progress=False, cache_dir=tmp_path / "client")
    engine = get_engine("espeak", s)
    text = "Apportez votre carte Vitale."
    key = clip_key(engine, text)
    spec = engine_spec(engine)
    assert spec == {"name": "espeak", "voice": s.voice, "rate": 115, "pitch": 40, "pace": "lent",
                    "engine_options": s.engine_options}
    made = speak_clip(spec, text, key)
    assert made == ClipCache(tmp_path / "client").make(engine, text, key).read_bytes()
    assert made.startswith(b"RIFF") and (tmp_path / "worker").is_dir()
    with pytest.raises(EngineError) as err:
        speak_clip({**spec, "pitch": 60}, text, key)
    assert "has another espeak than the client" in str(err.value) and "same engine version" in str(err.value)


def test_a_terminal_shows_the_catalogue_s_progress(tmp_path, monkeypatch):
    """On a terminal, a bar counts the guides done, with how many failed so far."""
    import io
    import sys

    from audioguide.catalogue import build_catalogue

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for name in ("a", "b"):
        (tmp_path / "cat" / name).mkdir(parents=True)
        (tmp_path / "cat" / name / "guide.yaml").write_text(BROKEN, "utf-8")
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    result = build_catalogue(tmp_path / "cat", tmp_path / "out", BuildSettings(progress=True))
    assert len(result.failed) == 2
    last = screen.getvalue().split("\r")[-1]
    assert last.startswith("Catalogue: 100%") and "2/2" in last and "0 ok, 2 failed]" in last, screen.getvalue()
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert build_catalogue(tmp_path / "cat", tmp_path / "out", BuildSettings(progress=False)).failed
    assert sys.stderr.getvalue() == ""


def test_verbose_messages_say_why_a_guide_failed_and_how_long_the_run_took(tmp_path, caplog):
    """`-v` shows how long the catalogue took; `-vv`, each failed guide with its whole message."""
    import logging
    import time

    from audioguide.catalogue import build_catalogue

    (tmp_path / "cat" / "zz").mkdir(parents=True)
    (tmp_path / "cat" / "zz" / "guide.yaml").write_text(BROKEN, "utf-8")
    caplog.set_level(logging.DEBUG, logger="audioguide")
    began = time.perf_counter()
    [failed] = build_catalogue(tmp_path / "cat", tmp_path / "out", BuildSettings(progress=False)).failed
    took = time.perf_counter() - began
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "audioguide.catalogue"]
    assert (logging.DEBUG, f"Guide {tmp_path / 'cat' / 'zz'} failed: {failed.error}") in said
    assert "titre" in failed.error
    [(level, text)] = [s for s in said if s[1].startswith("Catalogue: ")]
    seconds = re.fullmatch(r"Catalogue: 1 guides in (\d+) s\.", text)
    assert level == logging.INFO and seconds and int(seconds.group(1)) <= took + 1, text
