"""What espeak-ng really says, checked at the phoneme with its own phonemiser (`espeak-ng -v fr -x`)."""

import shutil
import subprocess
import sys

import pytest
import yaml

from audioguide.guide import load_guide
from audioguide.narration import normalize
from audioguide.narration.audit import audit, switches
from audioguide.narration.lexicon import Voice

from conftest import DATA, ESANTE, settings_for

pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng (script/bootstrap)")


def heard(text: str, lexicon=None) -> list[str]:
    """espeak-ng's phoneme lines (one per clause) for what the engine is given from this written text."""
    said = Voice(lexicon, phonemes=True)(normalize(text, lexicon))
    out = subprocess.run(["espeak-ng", "-v", "fr", "-q", "-x"], input=said, capture_output=True, text=True)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


# --- no sentence switches language -------------------------------------------------------------------

@pytest.fixture(scope="module")
def esante_report():
    return audit(load_guide(ESANTE))


def test_esante_has_no_language_switch(esante_report):
    assert esante_report.sentences > 400
    assert esante_report.foreign == {}, "\n".join(esante_report.lines())
    allowed = {w for w, v in load_guide(ESANTE).lexicon.items() if v == "allow"}
    assert set(esante_report.allowed) <= allowed  # only the words the guide allows (M-Health)


def test_esante_audit_is_clean(esante_report):
    assert esante_report.problems == 0, "\n".join(esante_report.lines())
    used = esante_report.lexicon_used
    assert used["DMP"] >= 5 and used["algorithme"] == 1 and used["crohn"] == 1


@pytest.mark.parametrize("guide", sorted(p.parent.name for p in DATA.glob("*/guide.yaml")))
def test_fixtures_have_no_language_switch(guide):
    report = audit(load_guide(DATA / guide))
    assert report.sentences > 0 and report.foreign == {}, "\n".join(report.lines())


@pytest.mark.parametrize("word", ["algorithme", "rythme", "l'authentification", "webinaire", "Crohn", "mail",
                                  "wifi", "Wi-Fi", "Bluetooth", "Google", "login", "cloud", "e-mail", "webcam",
                                  # found by the word-list scan (bench/lexicon_scan.py)
                                  "arthrose", "l'arythmie", "bruns", "stéthoscope", "euthanasie", "bipède"])
def test_issue_words_are_said_in_french(word):
    ph = " ".join(heard(f"Le mot {word} ici."))
    assert not switches(ph), ph


def test_every_shipped_respelling_is_read_in_french():
    from audioguide.narration.audit import phonemise
    from audioguide.narration.lexicon import pronunciations

    said = {w: e["espeak"] for w, e in pronunciations().items() if "espeak" in e}
    phonemes = phonemise(list(said.values()))
    foreign = {w: ph for w, ph in zip(said, phonemes) if switches(ph)}
    assert len(said) > 900 and not foreign, foreign


def test_et_cetera_is_said_in_full():
    assert "seter'a" in " ".join(heard("Des outils, etc."))  # not "e s@tr'a"


# --- addresses -----------------------------------------------------------------------------------

def test_monespacesante_is_three_words():
    ph = " ".join(heard("monespacesante.fr"))
    assert ph.startswith("mO~n Esp'as sA~t'e pw,E~"), ph


def test_sante_fr_keeps_its_accent():
    assert heard("www.sante.fr")[0].startswith("sA~t'e")  # "santé", and "www." is not said


def test_ameli_is_amelie():
    ph = heard("www.ameli.fr")[0]
    assert ph.startswith("amel'i") and "aml'i" not in ph


# --- prosody -------------------------------------------------------------------------------------

def test_comma_after_a_spelled_acronym_is_a_pause():
    lines = heard("La BPCO, insuffisance cardiaque.")
    assert len(lines) == 2 and lines[0].endswith("e'o") and lines[1].startswith("E~syfiz")


def test_acronym_inside_a_sentence_does_not_end_it():
    lines = heard("Le DMP est un carnet de santé.")
    assert len(lines) == 1 and "Et2 W~ karn'E" in lines[0]


def test_bracketed_acronym_is_an_aside():
    lines = heard("Le Dossier Médical Partagé (DMP) est gratuit.")
    assert len(lines) == 3 and lines[1].endswith("u d,e,Emp'e")  # "…Partagé, | ou D.M.P, | est gratuit"


def test_l_apostrophe_space_is_not_the_letter_l():
    ph = " ".join(heard("la création de l' Espace européen"))
    assert "lEsp'as" in ph and "'El" not in ph


# --- units and agreement -------------------------------------------------------------------------

@pytest.mark.parametrize("text,phonemes,never", [
    ("3 fois/jour", "par Z'ur", "u Z'ur"),
    ("25 €/mois", "par mw'a", "u mw'a"),
    ("pendant 15 min", "min'yt", "minim"),
    ("2 x 250 ml", "fw'a", "'iks"),
    ("1 seule fois", "yn s'Wl", "W~ s'Wl"),
    ("21 semaines", "e yn s@m'En", "e W~ s@m"),
    ("de 1 euro", "dW~n Yr'o", "d@- W~"),
])
def test_units_and_agreement_at_the_phoneme(text, phonemes, never):
    ph = " ".join(heard(text))
    assert phonemes in ph and never not in ph, ph


# --- the audit command ---------------------------------------------------------------------------

def _guide_with(tmp_path, text: str, lexicon: dict | None = None):
    data = yaml.safe_load((DATA / "mini" / "guide.yaml").read_text("utf-8"))
    data["intro"]["pages"][0]["blocks"] = [{"p": text}]
    if lexicon:
        data["lexicon"] = lexicon
    folder = tmp_path / "g"
    folder.mkdir(exist_ok=True)
    (folder / "guide.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return folder


def check(*args):
    return subprocess.run([sys.executable, "-m", "audioguide", "check", *args], capture_output=True, text=True)


@pytest.mark.french  # the report in the operator's default language
def test_check_speech_lists_foreign_words_and_strict_fails(tmp_path):
    guide = _guide_with(tmp_path, "Activez le Bluetooth et le streaming avec la ZBRQ du Zorglubland.")
    r = check("--speech", str(guide))
    assert r.returncode == 0, r.stderr
    assert "Bluetooth" not in r.stdout.split("Mots lus")[1].split("Sigles")[0]  # fixed by the shipped lexicon
    assert "streaming  [en:" in r.stdout
    assert "ZBRQ  dit « Z.B.R.Q. »" in r.stdout and "Zorglubland" in r.stdout
    r = check("--speech", "--strict", str(guide))
    assert r.returncode == 1 and "Traceback" not in r.stderr


@pytest.mark.french  # the report in the operator's default language
def test_allowed_words_pass_strict(tmp_path):
    guide = _guide_with(tmp_path, "Activez le streaming avec la ZBRQ du Zorglubland.",
                        {"streaming": "allow", "ZBRQ": "spell", "Zorglubland": "allow"})
    r = check("--speech", "--strict", str(guide))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Aucun problème." in r.stdout and "Mots acceptés par le guide : streaming" in r.stdout


# --- what each engine is given -------------------------------------------------------------------

@pytest.mark.parametrize("phonemes", [False, True])
def test_engines_get_the_voice_text_and_only_espeak_gets_phonemes(tmp_path, monkeypatch, phonemes):
    from audioguide.build import build
    from audioguide.tts.silence import SilenceEngine

    heard_texts: list[str] = []
    real = SilenceEngine.synthesize
    monkeypatch.setattr(SilenceEngine, "phonemes", phonemes, raising=False)
    monkeypatch.setattr(SilenceEngine, "synthesize", lambda self, text, wav: (heard_texts.append(text),
                                                                                real(self, text, wav)))
    guide = _guide_with(tmp_path, "Le Truc envoie un mail.", {"Truc": "[[tR'yk]]"})
    result = build(guide, settings_for(tmp_path, engine="silence"))
    said = " ".join(heard_texts)
    transcript = (result.out_dir / "transcripts" / "01-introduction.txt").read_text("utf-8")
    assert "Le Truc envoie un mail." in transcript  # the written text never changes
    if phonemes:
        assert "Le [[tR'yk]] envoie un mèl." in said
    else:
        assert "[[" not in said and "Le Truc envoie un mail." in said
