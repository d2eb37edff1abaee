"""The podcast feed, read by real parsers (feedparser, podcastparser) and a real client (gPodder's gpo)."""

import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import urllib.request
import uuid
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import feedparser
import podcastparser
import pytest
from lxml import etree
from mutagen.mp3 import MP3

from audioguide.build import build
from audioguide.exceptions import GuideError
from audioguide.publishers.podcast import PODCAST, podcast_guid
from audioguide.serve import make_server

from conftest import needs_tools, settings_for

pytestmark = [needs_tools]
BASE = "http://127.0.0.1:{port}/mini/"


_KEPT: list[Path] = []  # under script/mutation: the clean run's build of the served guide (out/, cache/)


def _served_build(guide: Path, s):
    """The served build. Under script/mutation, each podcast mutant runs in a process forked from mutmut's,
    where this fixture would build the guide again (speech, MP3s, every format: ~1.5 CPU-s a mutant). Only
    podcast.py is mutated for those, so their build starts from a copy of the clean run's: the chapters are
    up to date and the new address (another port) makes the publishers, the feed's among them, write again
    with the code under test. Everywhere else (every ordinary run, other groups' mutants) a fresh build."""
    phase = os.environ.get("MUTANT_UNDER_TEST")
    if _KEPT and phase and phase.startswith("audioguide.publishers.podcast."):
        shutil.copytree(_KEPT[0] / "out", s.out_dir, symlinks=True)
        s.cache_dir = _KEPT[0] / "cache"
        return build(guide, s)
    result = build(guide, s)
    if phase == "" and not _KEPT:  # mutmut's clean run, in the process every mutant's is forked from
        import atexit
        import tempfile

        kept = Path(tempfile.mkdtemp(prefix="audioguide-podcast-"))
        shutil.copytree(s.out_dir, kept / "out", symlinks=True)
        shutil.copytree(s.cache_dir, kept / "cache", symlinks=True)
        _KEPT.append(kept)
        pid = os.getpid()  # the forked mutants leave it to the process that made it
        atexit.register(lambda: os.getpid() == pid and shutil.rmtree(kept, ignore_errors=True))
    return result


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Build the fixture guide for a base URL, then serve its parent folder on a free port."""
    from conftest import DATA

    tmp = tmp_path_factory.mktemp("podcast")
    (tmp / "site").mkdir()
    server = make_server(tmp / "site", port=0)
    port = server.server_address[1]
    s = settings_for(tmp, base_url=BASE.format(port=port))
    s.out_dir = tmp / "site" / "mini"
    result = _served_build(DATA / "mini", s)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield result, port, tmp
    server.shutdown()
    server.server_close()


def test_feedparser_reads_every_episode(served):
    result, port, _ = served
    m, out = result.manifest, result.out_dir
    d = feedparser.parse(str(out / "feed.xml"))
    assert not d.bozo, d.bozo_exception
    assert d.feed.language == "fr-FR" and d.feed.title == "Guide d'essai & <test>"
    # Required by Apple Podcasts. feedparser reads "false" as None, so presence is what it can show here;
    # test_channel_tags checks the value.
    assert "itunes_explicit" in d.feed
    assert len(d.entries) == len(m["chapters"]) + 1  # and the whole guide, last
    bonus = d.entries[-1]
    assert bonus.itunes_episodetype == "bonus"
    assert bonus.enclosures[0].href == BASE.format(port=port) + m["whole"]["mp3"]
    assert int(bonus.enclosures[0].length) == (out / m["whole"]["mp3"]).stat().st_size == m["whole"]["bytes"]
    for e, c in zip(d.entries, m["chapters"]):
        assert e.title == c["title"]
        assert "itunes_explicit" in e
        enc = e.enclosures[0]
        assert enc.href == BASE.format(port=port) + c["mp3"]
        assert int(enc.length) == (out / c["mp3"]).stat().st_size
        assert abs(int(e.itunes_duration) - MP3(out / c["mp3"]).info.length) <= 1
        assert e.podcast_transcript["type"] == "text/vtt"
        assert e.podcast_transcript["url"].endswith(c["transcript"]["vtt"])
        assert e.podcast_chapters["url"].endswith(c["chapters_json"])
        chapters = json.loads((out / c["chapters_json"]).read_text())["chapters"]
        assert [x["title"] for x in chapters] == [p["title"] for p in c["pages"]]
        assert (out / c["transcript"]["vtt"]).read_text().startswith("WEBVTT")


def test_the_whole_guide_has_podcast_chapters_as_its_id3_marks(served):
    """The longest episode gets its chapter list too: one per page, where the file's own CHAP frames are."""
    from mutagen.id3 import ID3

    result, port, _ = served
    m, out = result.manifest, result.out_dir
    bonus = feedparser.parse(str(out / "feed.xml")).entries[-1]
    assert bonus.podcast_chapters["type"] == "application/json+chapters"
    url = bonus.podcast_chapters["url"]
    with urllib.request.urlopen(url, timeout=30) as r:  # served where the feed says
        data = json.loads(r.read())
    assert data["title"] == m["guide"]["title"] + " (guide complet)" and data["author"] == "Association Test"
    chap = sorted(ID3(out / m["whole"]["mp3"]).getall("CHAP"), key=lambda f: f.start_time)
    assert len(chap) == sum(len(c["pages"]) == 0 or len(c["pages"]) for c in m["chapters"]) == len(data["chapters"])
    for frame, mark in zip(chap, data["chapters"]):
        assert (round(mark["startTime"] * 1000), round(mark["endTime"] * 1000)) == (frame.start_time, frame.end_time)
        page = frame.sub_frames.getall("TIT2")[0].text[0]
        assert mark["title"] == page or mark["title"].endswith(" : " + page), (mark, page)


def test_podcastparser_reads_every_episode(served):
    result, port, _ = served
    m, out = result.manifest, result.out_dir
    with open(out / "feed.xml", "rb") as fh:
        p = podcastparser.parse(BASE.format(port=port) + "feed.xml", fh)
    eps = p["episodes"]  # a serial show: oldest first
    assert [e["title"] for e in eps] == [c["title"] for c in m["chapters"]] + [m["guide"]["title"] + " (guide complet)"]
    assert {e["guid"] for e in eps} == {f"urn:audioguide:mini:{c['id']}" for c in m["chapters"]} | {
        "urn:audioguide:mini"}
    for c in m["chapters"]:
        e = next(x for x in eps if x["guid"].endswith(c["id"]))
        assert e["enclosures"][0]["file_size"] == (out / c["mp3"]).stat().st_size
        assert e["enclosures"][0]["mime_type"] == "audio/mpeg"
        assert abs(e["total_time"] - MP3(out / c["mp3"]).info.length) <= 1
        # podcastparser reads podcast: tags only under the namespace's old URI: chapters reach it through psc.
        assert e["chapters"] == [{"start": int(p["start"]), "title": p["title"]} for p in c["pages"]]
        assert BASE.format(port=port) + c["transcript"]["txt"] in e["description_html"]
        assert json.loads((out / c["chapters_json"]).read_text())["author"] == "Association Test"


PARTYTIME = Path(__file__).parents[1] / "tools" / "partytime"


def partytime(feed: Path) -> dict:
    """The feed as the Podcast Index reads it: podcast-partytime, installed by script/bootstrap --test."""
    done = subprocess.run(["node", str(PARTYTIME / "parse.js"), str(feed)], capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(not (PARTYTIME / "node_modules" / "podcast-partytime").is_dir() or not shutil.which("node"),
                    reason="podcast-partytime is installed by script/bootstrap --test")
def test_the_podcast_index_parser_keeps_the_lock_and_every_chapter_list(served, tmp_path, mini_guide):
    result, _, _ = served
    m = result.manifest
    read = partytime(result.out_dir / "feed.xml")
    assert read["locked"] is None and read["owner"] is None  # no `email:`: no lock for it to drop
    assert [i["chapters"]["url"].rsplit("/", 1)[1] for i in read["items"]] == \
        [c["chapters_json"].rsplit("/", 1)[1] for c in m["chapters"]] + ["mini-complet.json"]
    out = build(_guide_with(mini_guide, "email: contact@asso.example\n"),
                settings_for(tmp_path, engine="silence")).out_dir
    read = partytime(out / "feed.xml")
    assert read["locked"] is False and read["owner"] == "contact@asso.example"  # "no", and who may move it


def test_channel_tags(served):
    result, port, _ = served
    root = etree.parse(str(result.out_dir / "feed.xml")).getroot()
    ns = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": PODCAST}
    ch = root.find("channel")
    assert ch.find("itunes:category", ns).get("text") == "Health & Fitness"
    assert ch.find("itunes:explicit", ns).text == "false"
    assert ch.find("itunes:type", ns).text == "serial"
    assert ch.find("itunes:image", ns).get("href").endswith("cover.jpg")
    guid = ch.find("podcast:guid", ns).text
    # Computed here from the spec's namespace UUID over the publisher and guide id, not by the code under test.
    spec_ns = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
    assert guid == str(uuid.uuid5(spec_ns, "audioguide/association test/mini"))
    assert [i.find("itunes:explicit", ns).text for i in ch.findall("item")] == ["false", "false", "false"]
    # No `email:` in the guide: podcast:locked needs its owner attribute (parsers drop the tag without one).
    assert ch.find("podcast:locked", ns) is None and ch.find("podcast:medium", ns).text == "podcast"
    items = ch.findall("item")
    assert [i.findtext("itunes:episode", namespaces=ns) for i in items] == ["1", "2", None]
    assert items[1].find("itunes:season", ns) is None  # a one-part guide has no seasons to choose between


def test_podcast_guid_matches_spec_example():
    # Example published in the Podcasting 2.0 namespace documentation, with and without scheme and slash.
    for url in ("https://mp3s.nashownotes.com/pc20rss.xml", "http://mp3s.nashownotes.com/pc20rss.xml/",
                "mp3s.nashownotes.com/pc20rss.xml"):
        assert podcast_guid(url) == "917393e3-1b1e-5cef-ace4-edaa54e1f810", url


def test_rebuild_keeps_guids_and_feed_bytes(served):
    result, port, tmp = served
    before = (result.out_dir / "feed.xml").read_bytes()
    from conftest import DATA

    s = settings_for(tmp, base_url=BASE.format(port=port))
    s.out_dir = result.out_dir
    again = build(DATA / "mini", s)
    assert (again.out_dir / "feed.xml").read_bytes() == before


def test_serve_mime_and_range(served):
    result, port, _ = served
    c = result.manifest["chapters"][0]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/mini/" + c["mp3"], headers={"Range": "bytes=100-199"})
    r = conn.getresponse()
    body = r.read()
    assert r.status == 206 and r.getheader("Content-Type") == "audio/mpeg"
    assert r.getheader("Content-Range") == f"bytes 100-199/{c['bytes']}"
    assert body == (result.out_dir / c["mp3"]).read_bytes()[100:200]
    conn.request("GET", "/mini/feed.xml")
    r = conn.getresponse()
    r.read()
    assert r.status == 200 and r.getheader("Content-Type").startswith("application/rss+xml")
    conn.request("GET", "/mini/" + c["transcript"]["vtt"])
    r = conn.getresponse()
    r.read()
    assert r.getheader("Content-Type").startswith("text/vtt")


@pytest.mark.skipif(not shutil.which("gpo"), reason="gPodder is installed by script/bootstrap --test")
def test_gpodder_subscribes_and_downloads_every_episode(served):
    result, port, tmp = served
    env = dict(os.environ, GPODDER_HOME=str(tmp / "gpodder"), GPODDER_DOWNLOAD_DIR=str(tmp / "downloads"))
    url = BASE.format(port=port) + "feed.xml"

    def gpo(*args):
        return subprocess.run(["gpo", *args], env=env, capture_output=True, text=True, timeout=120)

    gpo("subscribe", url)
    listed = gpo("list")
    assert url in listed.stdout, listed.stdout + listed.stderr  # gpo subscribe exits 0 even on a 404
    # gPodder lists newest first whatever itunes:type says (the README's "Order"): the whole guide, then the
    # chapters from the last; apps that honour `serial` list them the other way.
    shown = re.findall(r"^\s*\d+\.\s+\S\s+(.+)$", gpo("episodes", url).stdout, re.M)
    m = result.manifest
    assert shown == [m["guide"]["title"] + " (guide complet)"] + [c["title"] for c in reversed(m["chapters"])]
    for c in result.manifest["chapters"]:
        gpo("download", url, f"urn:audioguide:mini:{c['id']}")
    gpo("download", url, "urn:audioguide:mini")  # the whole guide
    got = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp / "downloads").rglob("*.mp3")}
    assert got == {c["sha256"] for c in result.manifest["chapters"]} | {result.manifest["whole"]["sha256"]}
    # What gPodder itself kept: the pages as chapters, and the show notes with the transcript's address.
    with sqlite3.connect(tmp / "gpodder" / "Database") as db:
        rows = dict((g, (ch, notes)) for g, ch, notes in db.execute(
            "SELECT guid, chapters, description_html FROM episode"))
    for c in result.manifest["chapters"]:
        chapters, notes = rows[f"urn:audioguide:mini:{c['id']}"]
        assert [x["title"] for x in json.loads(chapters)] == [p["title"] for p in c["pages"]]
        assert url.removesuffix("feed.xml") + c["transcript"]["txt"] in notes


def _guide_with(mini_guide, extra: str):
    g = mini_guide / "guide.yaml"
    g.write_text(g.read_text().replace("date: 2024-03-01\n", "date: 2024-03-01\n" + extra))
    return mini_guide


def _guids(out):
    root = etree.parse(str(out / "feed.xml")).getroot()
    return (root.findtext(f"channel/{{{PODCAST}}}guid"), [i.findtext("guid") for i in root.iter("item")])


def test_guids_do_not_depend_on_the_base_url_and_a_feed_guid_wins(tmp_path, mini_guide, caplog):
    s = settings_for(tmp_path, engine="silence")
    local = _guids(build(mini_guide, s).out_dir)
    assert local[1] == ["urn:audioguide:mini:introduction", "urn:audioguide:mini:dmp", "urn:audioguide:mini"]
    s.base_url = "https://asso.example/guides/mini/"  # the same folder rebuilt for its public address
    with caplog.at_level(logging.WARNING, logger="audioguide"):
        out = build(mini_guide, s).out_dir
    assert "https://asso.example/guides/mini/feed.xml" in (out / "feed.xml").read_text()
    assert _guids(out) == local
    # Published without an e-mail: nothing is invented, the build says what is missing.
    warned = [r.getMessage() for r in caplog.records if "`email:`" in r.getMessage()]
    assert len(warned) == 1 and "Association Test" in warned[0], warned  # whose feed it is, by name
    build(_guide_with(mini_guide, "feed_guid: 917393E3-1B1E-5CEF-ACE4-EDAA54E1F810\nemail: contact@asso.example\n"),
          s)
    assert _guids(out) == ("917393e3-1b1e-5cef-ace4-edaa54e1f810", local[1])
    ch = etree.parse(str(out / "feed.xml")).getroot().find("channel")
    ns = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": PODCAST}
    assert ch.findtext("itunes:owner/itunes:email", namespaces=ns) == "contact@asso.example"
    assert ch.find("podcast:locked", ns).get("owner") == "contact@asso.example"


@pytest.mark.parametrize("line, field, message", [
    ("feed_guid: 917393e3-1b1e-5cef-ace4\n", "feed_guid", "not a UUID"),
    ("email: contact at asso.example\n", "email", "not an e-mail address")])
def test_a_bad_feed_guid_or_email_is_refused_with_its_line(tmp_path, mini_guide, line, field, message):
    with pytest.raises(GuideError) as exc:
        build(_guide_with(mini_guide, line), settings_for(tmp_path, engine="silence"))
    [problem] = exc.value.problems
    text = (mini_guide / "guide.yaml").read_text().splitlines()
    assert (problem.field, problem.line) == (field, text.index(line.strip()) + 1)
    assert message in problem.message and problem.fix
    assert not (tmp_path / "out").exists()


def _fetch_every_link(out, base):
    """GET every address under `base` that the feed names; each must answer the file's own bytes."""
    text = (out / "feed.xml").read_text()
    urls = sorted({unescape(u) for u in re.findall(re.escape(base) + r'[^"<\s&]*', text)} - {base})
    assert len(urls) > 10, urls
    for u in urls:
        with urllib.request.urlopen(u, timeout=30) as r:
            assert r.status == 200 and r.read() == (out / unquote(u[len(base):])).read_bytes(), u
    return urls


def test_serving_output_or_the_guide_folder_answers_every_feed_link(tmp_path, mini_guide, monkeypatch):
    """The README's `audioguide serve output`, and `serve output/<guide>`, with the build's default address."""
    site = tmp_path / "output"
    site.mkdir()
    parent = make_server(site, port=0)
    port = parent.server_address[1]
    monkeypatch.setattr("audioguide.build.builder.DEFAULT_BASE_URL", f"http://127.0.0.1:{port}/")
    s = settings_for(tmp_path, engine="silence")
    s.out_dir = site / "mini"
    out = build(mini_guide, s).out_dir
    base = f"http://127.0.0.1:{port}/mini/"
    threading.Thread(target=parent.serve_forever, daemon=True).start()
    try:
        first = _fetch_every_link(out, base)
    finally:
        parent.shutdown()
        parent.server_close()
    itself = make_server(out, port=port)  # the same port: the feed's addresses name it
    threading.Thread(target=itself.serve_forever, daemon=True).start()
    try:
        assert _fetch_every_link(out, base) == first
    finally:
        itself.shutdown()
        itself.server_close()
