"""A guide without parts (tests/data/two-level: chapters at the top level, its own level names, pace: lent)
built end to end with real espeak-ng and ffmpeg: the frame, the feed, the phone menu and the kiosk."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree
from mutagen.id3 import ID3
from phone_builds import phone_build

from audioguide.config import PACES
from audioguide.narration.written import join_sentences
from audioguide.phone.menu import page_prompt_id
from audioguide.phone.simulator import Call, load_menu, parse_keys

from conftest import DATA, needs_tools

pytestmark = [needs_tools, pytest.mark.e2e]
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return phone_build(DATA / "two-level", tmp_path_factory.mktemp("two-level"))


def cues(manifest: dict, chapter_id: str) -> list[list[str]]:
    ch = next(c for c in manifest["chapters"] if c["id"] == chapter_id)
    return [join_sentences(p["cues"], spoken=True).splitlines() for p in ch["pages"]]  # a sentence cut in clips, whole


def test_frame_text_in_the_built_audio(built):
    m = built.manifest
    assert [c["id"] for c in m["chapters"]] == ["introduction", "pourquoi", "ou"]
    assert all(c["part"] is None for c in m["chapters"])
    pourquoi = cues(m, "pourquoi")
    assert pourquoi[0][0] == "Fiche un : Pourquoi se faire vacciner. Étape un sur deux : les risques"
    # The second page: its number and title only; its callout label is not said again after the title.
    assert pourquoi[1][:2] == ["Étape deux : attention", "Le vaccin ne protège qu'après deux semaines."]
    assert pourquoi[1][-1] == "Fin de la fiche."
    assert cues(m, "ou")[0][0] == "Fiche deux : Où se faire vacciner. Les lieux"
    assert cues(m, "introduction")[0][-1] == "Fin de l'introduction."
    text = (built.out_dir / "transcripts" / "02-pourquoi.txt").read_text("utf-8")
    assert "Chapitre" not in text and "Partie" not in text and "Attention :" not in text
    # The guide's pace reached the engine and the pauses.
    assert m["engine"]["rate"] == PACES["lent"].rate
    assert m["guide"]["levels"]["chapter"] == {"noun": "fiche", "feminine": True}


def test_mp3_tags_without_parts(built):
    m = built.manifest
    whole = ID3(built.out_dir / m["whole"]["mp3"])
    toc = next(f for f in whole.getall("CTOC") if f.element_id == "toc")
    assert toc.child_element_ids == ["c001", "c002", "c003"]
    tags = ID3(built.out_dir / next(c["mp3"] for c in m["chapters"] if c["id"] == "pourquoi"))
    assert "TIT3" not in tags and "TPOS" not in tags
    assert "Étapes : Les risques ; Attention." in tags["COMM::fre"].text[0]


def test_feed_has_episodes_without_seasons(built):
    rss = etree.parse(str(built.out_dir / "feed.xml"))
    items = rss.findall("channel/item")
    assert [i.findtext("itunes:episodeType", namespaces=NS) for i in items] == ["full", "full", "full", "bonus"]
    assert [i.findtext("itunes:episode", namespaces=NS) for i in items] == ["1", "2", "3", None]
    assert not rss.findall(".//itunes:season", NS) and not rss.findall(".//podcast:season", NS)
    assert items[1].findtext("description") == "Pourquoi se faire vacciner. Étapes : Les risques ; Attention."


def test_phone_menu_lists_the_chapters_and_plays_them(built):
    menu, sounds = load_menu(built.out_dir)
    main = menu.nodes[menu.root]
    assert [(i.key, i.target) for i in main.items] == [("1", "chapter-introduction"), ("2", "chapter-pourquoi"),
                                                       ("3", "chapter-ou")]
    assert not [n for n in menu.nodes.values() if n.kind == "menu" and len(n.items) < 2]
    assert "Pour les lieux de vaccination, tapez 3." in menu.prompts["menu-main"].text
    assert menu.prompts["chapter-end"].text.startswith("Fin de la fiche. Pour passer à la fiche suivante, tapez 6.")
    assert "passer à l'étape suivante" in menu.prompts["welcome"].text
    ch = built.guide.chapter("pourquoi")
    heard = Call(menu, lambda p: None).run(iter(parse_keys("t 2 t t t 4 *")))
    assert heard == ["welcome", "menu-main", page_prompt_id(ch, 1), page_prompt_id(ch, 2), "chapter-end",
                     "menu-main", "invalid", "menu-main", "menu-main"]
    for pid in heard:
        assert (sounds / f"{pid}.wav").stat().st_size > 1000, pid


def test_kiosk_data_has_one_menu_and_the_level_names(built):
    html = (built.out_dir / "kiosk" / "index.html").read_text("utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="guide-data">(.*?)</script>', html, re.S)[1])
    assert list(data["menus"]) == ["main"]
    assert [i["target"] for i in data["menus"]["main"]["items"]] == ["chapter-introduction", "chapter-pourquoi",
                                                                     "chapter-ou"]
    assert all(c["parent"] == "main" for c in data["chapters"])
    assert data["levels"]["page"] == {"noun": "étape", "feminine": True}


def test_check_counts_what_the_guide_has():
    """A guide without parts is not told it has "0 parts", as if something were missing."""
    from click.testing import CliRunner

    from audioguide.cli import cli

    res = CliRunner().invoke(cli, ["check", str(DATA / "two-level")])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == "OK: 'La vaccination contre la grippe': 3 chapters, 4 pages."
    res = CliRunner().invoke(cli, ["check", str(DATA / "mini")])
    assert res.output.strip() == "OK: \"Guide d'essai & <test>\": 1 part, 2 chapters, 3 pages."
