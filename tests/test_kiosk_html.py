"""The kiosk page's HTML without a browser: fast enough for script/mutation to run per mutant.
test_kiosk.py drives the same page in chromium."""

import json

import pytest
from lxml import html as lhtml

from audioguide.build import build
from audioguide.phone.menu import build_menu
from audioguide.publishers.transcripts import caption_cues
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
    assert data == kiosk_data(result.manifest, build_menu(result.guide))
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
    data = kiosk_data(m, menu)
    assert data["id"] == "mini" and data["root"] == menu.root
    assert [c["id"] for c in data["chapters"]] == [c["id"] for c in m["chapters"]]
    for c, mc in zip(data["chapters"], m["chapters"]):
        assert c["mp3"] == "../" + mc["mp3"] and c["vtt"] == "../" + mc["transcript"]["vtt"]
        assert c["parent"] == menu.nodes[f"chapter-{mc['id']}"].parent
        # The read-along shows the captions of the page's text, as the WebVTT does, page by page; not the end
        # cue, which the WebVTT also times.
        assert [(p["id"], p["start"], p["end"]) for p in c["pages"]] == \
            [(p["id"], p["start"], p["end"]) for p in mc["pages"]]
        shown = [q["text"] for p in c["pages"] for q in p["cues"]]
        captions = [q["text"] for q in caption_cues(mc["pages"])]
        assert shown == captions[:len(shown)] and captions[len(shown)].startswith(("Fin de l'introduction.",
                                                                                  "Fin du sujet."))
        assert not any("Fin d" in x for x in shown)
    assert data["menus"][menu.root]["title"] == "Menu principal"
    assert set(data["menus"]) == {n.id for n in menu.nodes.values() if n.kind == "menu"}
    assert len(data["menus"][menu.root]["items"]) == len(m["chapters"])  # one part: the main menu lists the chapters
    for mid, node in data["menus"].items():
        assert node["parent"] == menu.nodes[mid].parent
        assert mid == menu.root or node["title"] == menu.nodes[mid].title
        assert [(i["key"], i["label"], i["target"]) for i in node["items"]] == \
            [(i.key, i.label, i.target) for i in menu.nodes[mid].items]


# --- idle reset: on for a shared kiosk, settable for a personal copy ------------------------------

def test_the_idle_time_reaches_the_page(hostile_kiosk):
    result, page = hostile_kiosk
    data = json.loads(lhtml.fromstring(page).get_element_by_id("guide-data").text)
    assert result.settings.kiosk_idle == 120 and data["idle"] == 120  # on by default
    assert kiosk_data(result.manifest, build_menu(result.guide), 0)["idle"] == 0


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


@pytest.mark.parametrize("seconds", [-1, 10, 29, 86401])
def test_an_idle_time_too_short_to_read_is_refused_before_any_work(tmp_path, seconds):
    from click.testing import CliRunner

    from audioguide.cli import cli
    from conftest import DATA

    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["build", str(DATA / "mini"), "--engine", "silence", "--out", str(out),
                                 "--kiosk-idle", str(seconds)])
    assert r.exit_code == 2, r.output  # a usage error, as the other invalid settings
    assert f"kiosk idle time {seconds} s" in r.output and "0 (never)" in r.output
    assert "Traceback" not in r.output and not out.exists()
