"""`check --speech` flags what the French rules cannot read with confidence (issue 23), with few false alarms:
checked on a realistic leaflet (tests/data/leaflet) and on constructions one by one."""

import shutil

import pytest
import yaml

from audioguide.guide import load_guide
from audioguide.narration.audit import audit, uncertain
from audioguide.narration.pipeline import Normalizer

from conftest import DATA

STEPS = Normalizer().steps


def kinds(text: str) -> list[tuple[str, str]]:
    return [(k, w) for k, w, _ in uncertain(text, STEPS)]


@pytest.mark.parametrize("text,found", [
    ("Répondez oui/non/peut-être à chaque question.", [("slash", "oui/non/peut-être")]),
    ("Cochez la case A/B du formulaire.", [("slash", "A/B")]),
    ("Installez la version 2.4.1 de l'application.", [("number", "2.4.1")]),
    ("Notez le code 45 67 89 au dos.", [("number", "45 67 89")]),
    ("Les permanences ont lieu tous les 15 j. au centre.", [("abbreviation", "j.")]),
    ("Votre dossier : réf. à rappeler.", [("abbreviation", "réf.")]),
    ("Ouvert lun.-ven. 9h-12h / 14h-17h, sam. matin.", []),
    ("La dose est de 15 mg/kg/j, et la tension 14/9 le 3/03.", []),
    ("Appelez le 01 23 45 67 89 ou le 0 800 123 456, ou le 3919.", []),
    ("Le Dr Martin exerce au 12 av. Jean-Jaurès, bât. C, env. 40 m.", []),
    ("Une I.R.M. est prévue, et/ou un scanner, selon l'art. L. 1111-2.", []),
    ("Le site www.ameli.fr/assure/remboursements/rembourse en dit plus.", []),
])
def test_uncertain_constructions(text, found):
    assert kinds(text) == found


def _leaflet():
    """The leaflet's audit, made by each test that reads it rather than by a module fixture: script/mutation runs
    a mutant's tests fastest first by their own time, fixtures left out, so a fixture's audit (espeak-ng on the
    whole leaflet) ran first for nearly every narration mutant, before the tests that kill most of them at once."""
    if not shutil.which("espeak-ng"):
        pytest.skip("needs espeak-ng")
    return audit(load_guide(DATA / "leaflet"))


def test_leaflet_flags_what_is_uncertain():
    leaflet = _leaflet()
    assert set(leaflet.unknown) == {"CeGIDD", "IPA", "TPE"}  # acronyms the lexicon does not list
    assert {f.word for f in leaflet.uncertain.values()} == {"j.", "réf."}
    assert leaflet.foreign == {}  # "Parking": the shipped fix
    assert leaflet.problems == 5


def test_leaflet_has_no_false_alarm_on_what_the_rules_read():
    leaflet = _leaflet()
    flagged = set(leaflet.unknown) | {f.word for f in leaflet.uncertain.values()}
    # Abbreviations of the table, letters around a number, a word of the table: read with confidence.
    assert not flagged & {"Dr", "Mme", "T3", "C2S", "HbA1c", "PrEP", "bât.", "env.", "av.", "lun.", "mar."}
    # Proper names are listed to listen to, not counted as problems.
    assert {"Diallo", "Nguyen"} <= set(leaflet.names)
    assert "No problems." not in leaflet.lines() and "5 problems." in leaflet.lines()
    # The report as its author reads it (`check --speech`): each finding with what is said and where.
    assert leaflet.lines() == [
        "Pronunciation audit: 68 sentences put through espeak-ng's phonemiser.",
        "",
        "Acronyms missing from the lexicon (3):",
        "  CeGIDD  said “CeGIDD”  depistage/cegidd",
        "  IPA  said “I.P.A.”  centre/equipe",
        "  TPE  said “T.P.E.”  depistage/cegidd",
        "  -> add them to the guide's lexicon (WORD: spell, WORD: spoken form, or WORD: allow).",
        "",
        "Constructions read without certainty (2):",
        "  unknown abbreviation: “j.”  said “tous les quinze jours. au C.C.A.S.”  droits/aides",
        "  unknown abbreviation: “réf.”  said “service social : réf. à rappeler”  droits/aides",
        "  -> write them out in full in the text (“15 jours”, “référence”), or as the rules know them "
        "(“14/9” after “tension”, “3 g/j”).",
        "",
        "Proper names to listen to (4, not counted): Covid, Diallo, Henri-Mondor, Nguyen",
        "",
        "Lexicon entries used (10):",
        "  ALD ×1, APA ×1, CCAS ×1, CPTS ×1, IST ×1, VIH ×1, ameli ×1, jeun ×1, parking ×1, prep ×1",
        "",
        "5 problems.",
    ]


def test_an_allow_that_removes_a_shipped_fix_is_a_problem(tmp_path):
    if not shutil.which("espeak-ng"):
        pytest.skip("needs espeak-ng")
    data = yaml.safe_load((DATA / "mini" / "guide.yaml").read_text("utf-8"))
    data["intro"]["pages"][0]["blocks"] = [{"p": "Un guide de France Assos Santé."}]
    data["lexicon"] = {"Assos": "allow", "France": "allow"}
    (tmp_path / "guide.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    report = audit(load_guide(tmp_path))
    assert set(report.hidden_fixes) == {"Assos"} and report.problems == 1
    assert any("Assos" in line and "Assosse" in line for line in report.lines())
