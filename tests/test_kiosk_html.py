"""The kiosk page's HTML without a browser: fast enough for script/mutation to run per mutant.
test_kiosk.py drives the same page in chromium."""

import json

import pytest
from lxml import html as lhtml

from audioguide.build import build
from audioguide.phone.menu import build_menu
from audioguide.publishers.book import Book
from audioguide.publishers.kiosk import json_for_script, kiosk_data

from conftest import needs_tools, settings_for

pytestmark = [needs_tools]
HOSTILE = "</p><script>window.__pwned=1</script> & \"q\" 'a' <img src=x onerror=alert(1)> <!-- -->"


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def hostile_kiosk(tmp_path_factory):
    """A silent build whose title, publisher, rights and a chapter title are hostile markup."""
    import shutil

    from conftest import DATA

    tmp = tmp_path_factory.mktemp("kiosk-html")
    shutil.copytree(DATA / "mini", tmp / "mini")
    g = tmp / "mini" / "guide.yaml"
    text = g.read_text("utf-8")
    text = text.replace('title: "Guide d\'essai & <test>"', "title: " + _yaml_str("Titre " + HOSTILE))
    text = text.replace("publisher: Association Test", "publisher: " + _yaml_str("Asso " + HOSTILE))
    text = text.replace("rights: CC BY 4.0", "rights: " + _yaml_str("Droits " + HOSTILE))
    text = text.replace("title: Le DMP", "title: " + _yaml_str("DMP " + HOSTILE))
    g.write_text(text, "utf-8")
    result = build(tmp / "mini", settings_for(tmp, engine="silence"))
    return result, (result.out_dir / "kiosk" / "index.html").read_text("utf-8")


def test_footer_and_title_are_text_not_markup(hostile_kiosk):
    _, page = hostile_kiosk
    doc = lhtml.fromstring(page)
    assert doc.xpath("string(//footer)").strip() == f"Asso {HOSTILE} · Droits {HOSTILE} · version 1.0"
    assert doc.xpath("string(//h1)").strip() == "Titre " + HOSTILE
    assert doc.xpath("string(//title)").strip().startswith("Titre " + HOSTILE)
    assert not doc.xpath("//img") and not doc.xpath("//footer/*[not(self::p)]") and len(doc.xpath("//script")) == 2
    assert "<img" not in page and "-->" not in page.split("<script")[0]


def test_data_cannot_close_its_script_element(hostile_kiosk):
    result, page = hostile_kiosk
    doc = lhtml.fromstring(page)
    data = json.loads(doc.get_element_by_id("guide-data").text)
    assert data == kiosk_data(Book.from_build(result), build_menu(result.guide))
    assert data["chapters"][1]["title"] == "DMP " + HOSTILE and data["title"] == "Titre " + HOSTILE
    raw = page.split('id="guide-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in raw and ">" not in raw and "&" not in raw


def test_json_for_script_escapes_what_ends_a_script():
    text = json_for_script({"a": "</script><!-- & \u2028\u2029"})
    assert text == '{"a":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029"}'
    assert json.loads(text) == {"a": "</script><!-- & \u2028\u2029"}
    assert json_for_script({"t": "Santé", "b": 1}) == '{"b":1,"t":"Santé"}'  # readable, stable key order


def test_kiosk_data_follows_the_manifest_and_the_phone_menu(hostile_kiosk):
    result, _ = hostile_kiosk
    m, menu = result.manifest, build_menu(result.guide)
    data = kiosk_data(Book.from_build(result), menu)
    assert data["id"] == "mini" and data["root"] == menu.root
    assert [c["id"] for c in data["chapters"]] == [c["id"] for c in m["chapters"]]
    for c, mc in zip(data["chapters"], m["chapters"]):
        assert c["mp3"] == "../" + mc["mp3"] and c["vtt"] == "../" + mc["transcript"]["vtt"]
        assert c["parent"] == menu.nodes[f"chapter-{mc['id']}"].parent
        assert [(p["id"], p["start"], p["end"]) for p in c["pages"]] == \
            [(p["id"], p["start"], p["end"]) for p in mc["pages"]]
        for p in c["pages"]:
            timed = [s for b in p["text"] for s in _sentences(b) if s[0] is not None]
            # each sentence is marked from when it is said until the next starts; the last until its speech
            # ends, before the end cue, which is not the page's text
            assert all(a[1] == b[0] for a, b in zip(timed, timed[1:]))
            assert all(p["start"] <= s[0] < s[1] <= p["end"] for s in timed)
            assert p["said"][1] == (timed[0][0] if timed else p["said"][1])
            assert not any("Fin d" in s[2] for b in p["text"] for s in _sentences(b))
        end_cue = [q["start"] for q in mc["pages"][-1]["cues"] if q["kind"] == "cue"][0]
        assert timed[-1][1] <= end_cue
    assert data["menus"][menu.root]["title"] == "Menu principal"
    assert set(data["menus"]) == {n.id for n in menu.nodes.values() if n.kind == "menu"}
    assert len(data["menus"][menu.root]["items"]) == len(m["chapters"])  # one part: the main menu lists the chapters
    for mid, node in data["menus"].items():
        assert node["parent"] == menu.nodes[mid].parent
        assert mid == menu.root or node["title"] == menu.nodes[mid].title
        assert [(i["key"], i["label"], i["target"]) for i in node["items"]] == \
            [(i.key, i.label, i.target) for i in menu.nodes[mid].items]


def _sentences(block: dict) -> list[list]:
    """A block's [start, until, text] sentences in reading order: its own, its list items', its children's."""
    return block.get("s", []) + [s for item in block.get("items", []) for s in item] + \
        [s for c in block.get("children", []) for s in _sentences(c)]


def test_the_read_along_shows_paragraphs_and_titles_as_the_guide_writes_them(hostile_kiosk):
    """Not caption lines: a paragraph of two sentences is one paragraph, a list a list, a callout its label and
    its text; the page's title is the guide's ("Qu'est-ce que c'est ?"), not the narration's lowercased one."""
    result, _ = hostile_kiosk
    data = kiosk_data(Book.from_build(result), build_menu(result.guide))
    intro, dmp = data["chapters"]
    [bienvenue] = intro["pages"][0]["text"]
    assert bienvenue["kind"] == "p" and " ".join(s[2] for s in bienvenue["s"]) == \
        "Bienvenue dans ce guide d'essai. Il dure moins d'une minute."
    assert len(bienvenue["s"]) == 2  # marked sentence by sentence
    quoi, attention = dmp["pages"]
    assert quoi["title"] == "Qu'est-ce que c'est ?" and "qu'est-ce" not in json.dumps(quoi["text"])
    assert [b["kind"] for b in quoi["text"]] == ["p", "list"]
    assert [[s[2] for s in item] for item in quoi["text"][1]["items"]] == [["ordonnances,"], ["comptes-rendus."]]
    callout, link = attention["text"]
    assert callout["kind"] == "attention" and [s[2] for s in callout["s"]] == ["Attention :"]
    assert [s[2] for c in callout["children"] for s in c["s"]] == ["Appelez le 15 en cas d'urgence."]
    assert link["s"][0][2] == "Le site de l'Assurance maladie : www.ameli.fr/assure"
    assert all(s[0] is not None for b in quoi["text"] for s in _sentences(b))  # every sentence said is timed
    assert quoi["said"][0] is not None and quoi["said"][0] < quoi["text"][0]["s"][0][0]  # the title, said first


# --- idle reset: on for a shared kiosk, settable for a personal copy ------------------------------

def test_the_idle_time_reaches_the_page(hostile_kiosk):
    result, page = hostile_kiosk
    data = json.loads(lhtml.fromstring(page).get_element_by_id("guide-data").text)
    assert result.settings.kiosk_idle == 120 and data["idle"] == 120  # on by default
    assert kiosk_data(Book.from_build(result), build_menu(result.guide), 0)["idle"] == 0


def test_kiosk_idle_option_builds_a_personal_copy(tmp_path):
    from click.testing import CliRunner

    from audioguide.cli import cli

    from conftest import DATA

    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["build", str(DATA / "mini"), "--engine", "silence", "--out", str(out),
                                 "--cache", str(tmp_path / "cache"), "--kiosk-idle", "0"])
    assert r.exit_code == 0, r.output
    page = lhtml.fromstring((out / "kiosk" / "index.html").read_text("utf-8"))
    assert json.loads(page.get_element_by_id("guide-data").text)["idle"] == 0


@pytest.mark.french
@pytest.mark.parametrize("seconds", [-1, 10, 29, 86401])
def test_an_idle_time_too_short_to_read_is_refused_before_any_work(tmp_path, seconds):
    from click.testing import CliRunner

    from audioguide.cli import cli

    from conftest import DATA

    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["build", str(DATA / "mini"), "--engine", "silence", "--out", str(out),
                                 "--kiosk-idle", str(seconds)])
    assert r.exit_code == 2, r.output  # a usage error, as the other invalid settings
    assert f"--kiosk-idle {seconds} : le délai de la borne" in r.output and "0 (jamais)" in r.output
    assert "Traceback" not in r.output and not out.exists()
