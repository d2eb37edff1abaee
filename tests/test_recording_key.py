"""A page's recording declared in the guide file (`recording:` in YAML, `{recording="…"}` on a Markdown heading):
the build reads that file instead of the recordings/ convention; a path out of the folder, another type or a
missing file is refused naming the file, line and field; the studio shows it and leaves it to the guide."""

from __future__ import annotations

import re
import shutil
from html import unescape

import pytest
from click.testing import CliRunner
from test_recordings import body_texts, page_of, reading
from test_studio import Running, token

from audioguide.build import build
from audioguide.cli import cli
from audioguide.exceptions import GuideError
from audioguide.guide import load_guide
from audioguide.recordings.check import spoken
from audioguide.recordings.find import find
from audioguide.recordings.process import decode

from conftest import DATA, needs_tools, settings_for

pytestmark = [needs_tools, pytest.mark.e2e]
pytest.importorskip("librosa")
LINE = "    - id: bienvenue\n"


def declared(tmp_path, value: str):
    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    text = (guide / "guide.yaml").read_text()
    assert LINE in text
    (guide / "guide.yaml").write_text(text.replace(LINE, LINE + f"      recording: {value}\n", 1))
    return guide


@pytest.mark.french
def test_a_declared_recording_is_the_page_s_reading_in_the_build(tmp_path, caplog):
    guide = declared(tmp_path, "voix/accueil.flac")
    take = guide / "voix" / "accueil.flac"
    reading(body_texts(guide, "introduction", "bienvenue"), take, hesitate_s=0.6)
    loaded = load_guide(guide / "guide.yaml")
    assert loaded.find_page("introduction/bienvenue")[1].recording == "voix/accueil.flac"
    assert find(loaded) == {("introduction", "bienvenue"): guide / "voix" / "accueil.flac"}
    out = CliRunner().invoke(cli, ["check", str(guide / "guide.yaml")])
    assert out.exit_code == 0 and "Pages lues par une voix humaine (1) : introduction/bienvenue." in out.output
    with caplog.at_level("INFO"):
        result = build(guide / "guide.yaml", settings_for(tmp_path))
    assert "1 pages lues par une voix humaine" in caplog.text
    _, p = page_of(result, "introduction", "bienvenue")
    body = [c for c in p["cues"] if c["block"] is not None]
    assert abs((body[-1]["end"] - body[0]["start"]) - spoken(decode(take, "x"))) <= 0.4, body


def test_a_markdown_heading_declares_a_recording():
    text = (DATA / "md" / "grippe" / "guide.md").read_text()
    assert "### Bienvenue\n" in text
    from audioguide.studio.source import check_text

    # Checked as a draft elsewhere (as the studio does): the file needs not be there for the words to be valid.
    text = text.replace("### Bienvenue\n", '### Bienvenue {recording="voix/b.wav"}\n')
    checked = check_text(DATA / "md" / "grippe" / "guide.md", text)
    assert checked.problems == []
    assert checked.guide.find_page("introduction/bienvenue")[1].recording == "voix/b.wav"


@pytest.mark.parametrize("value, said", [("/etc/voix.wav", "not inside the guide's folder"),
                                          ("../voix.wav", "not inside the guide's folder"),
                                          ("voix/accueil.txt", "not a sound file")])
def test_a_bad_recording_path_is_refused_with_its_line_and_field(tmp_path, value, said):
    guide = declared(tmp_path, value)
    with pytest.raises(GuideError) as exc:
        load_guide(guide / "guide.yaml")
    p, = exc.value.problems
    assert said in p.message and p.field.endswith("recording") and p.line == 16 and p.fix


@pytest.mark.french
@pytest.mark.parametrize("value, said", [("../voix.wav", "n'est pas dans le dossier du guide"),
                                          ("voix/accueil.txt", "n'est pas un fichier son que la construction lit")])
def test_a_bad_recording_path_is_refused_in_french_by_default(tmp_path, value, said):
    guide = declared(tmp_path, value)
    with pytest.raises(GuideError) as exc:
        load_guide(guide / "guide.yaml")
    p, = exc.value.problems
    assert said in p.message and p.fix.startswith(("écrivez son chemin", "utilisez un fichier")), p


def test_a_missing_declared_recording_stops_check_and_build_naming_the_line(tmp_path):
    guide = declared(tmp_path, "voix/absente.wav")
    out = CliRunner().invoke(cli, ["check", str(guide / "guide.yaml")])
    assert out.exit_code != 0 and "Traceback" not in out.output
    assert re.search(r"guide\.yaml.*15.*recording.*voix/absente\.wav.*is not there", out.output), out.output
    with pytest.raises(GuideError) as exc:
        build(guide / "guide.yaml", settings_for(tmp_path))
    assert "voix/absente.wav" in exc.value.problems[0].message
    (guide / "voix").mkdir()
    (guide / "voix" / "absente.wav").symlink_to(tmp_path / "ailleurs.wav")
    reading(["Bonjour."], tmp_path / "ailleurs.wav")
    with pytest.raises(GuideError) as exc:
        find(load_guide(guide / "guide.yaml"))
    assert "leads out of the guide's folder" in exc.value.problems[0].message


def test_the_studio_shows_a_declared_recording_and_leaves_it_to_the_guide(tmp_path):
    guide = declared(tmp_path, "voix/accueil.wav")
    reading(body_texts(guide, "introduction", "bienvenue"), guide / "voix" / "accueil.wav", hesitate_s=0.6)
    s = Running(guide, tmp_path / "cache")
    try:
        csrf = token(s.client.get("/page/introduction/bienvenue").text)
        html = unescape(s.client.get("/voix/page/introduction/bienvenue").text)
        assert "lue par une voix humaine : <code>voix/accueil.wav</code>" in html and "recording:" in html
        assert "supprimer-voix" not in html
        r = s.client.post("/voix/supprimer", data={"csrf": csrf, "ref": "introduction/bienvenue", "confirme": "oui"})
        assert r.status_code == 400 and "le studio ne le remplace pas" in unescape(r.text)
        wav = (guide / "voix" / "accueil.wav").read_bytes()
        r = s.client.post("/voix/prise", data={"csrf": csrf, "ref": "introduction/bienvenue"},
                          files={"fichier": ("prise.wav", wav, "audio/wav")})
        name = re.search(r'name="prise" value="([^"]+)"', r.text).group(1)
        r = s.client.post("/voix/garder", data={"csrf": csrf, "ref": "introduction/bienvenue", "prise": name})
        assert r.status_code == 400 and "recording: voix/accueil.wav" in unescape(r.text)
        assert not (guide / "recordings").exists() and (guide / "voix" / "accueil.wav").read_bytes() == wav
        assert s.client.get("/voix/fichier/introduction/bienvenue").content == wav
    finally:
        s.close()
