"""The e-santé guide: every topic of the source is present, and no PDF debris reaches the listener."""

import re

import pytest

from audioguide.guide import load_guide
from audioguide.narration.lexicon import default_lexicon
from audioguide.narration.script import ScriptWriter

from conftest import ESANTE, ROOT

SOURCE = ROOT.parent / "shared" / "source" / "se-reperer-dans-la-e-sante.txt"
TOPICS = ["télésanté", "télémédecine", "téléconsultation", "téléexpertise", "télésurveillance médicale",
          "téléassistance médicale", "régulation médicale", "télésoin", "mon espace santé",
          "dossier médical partagé", "applications mobiles de santé", "objets connectés",
          "information certifiée, fiable", "données de santé"]
DEBRIS = re.compile(r"\b(Précédent|Suivant|[Rr]etour au menu|EN SAVOIR PLUS|POSTER)\b|\(#\)")


@pytest.fixture(scope="module")
def guide():
    return load_guide(ESANTE)


def _narration(guide) -> str:
    """The whole guide's transcript, made by each test that reads it rather than by a module fixture:
    script/mutation runs a mutant's tests fastest first by their own time, fixtures left out, so a fixture's
    narration of the whole guide (~1 CPU-s) ran first for every ScriptWriter mutant."""
    w = ScriptWriter(guide)
    return "\n".join(s.transcript for c in guide.chapters for s in w.chapter(c))


def test_structure(guide):
    assert [p.title for p in guide.parts] == ["Télésanté", "Dossier patient", "Applications de santé", "Focus"]
    assert len(guide.chapters) >= 12
    assert guide.intro is not None
    for ch in guide.chapters:
        assert ch.pages, ch.id


def test_every_topic_present(guide):
    titles = " | ".join(c.title.lower() for c in guide.chapters)
    for topic in TOPICS:
        assert topic in titles, topic


def test_five_acts_each_have_their_subpages(guide):
    for cid in ["teleconsultation", "teleexpertise", "telesurveillance", "teleassistance", "regulation", "telesoin",
                "mon-espace-sante", "dmp", "applications-mobiles", "objets-connectes"]:
        titles = [p.title for p in guide.chapter(cid).pages]
        assert "Qu'est-ce que c'est ?" in titles, cid
        assert any(t.startswith("Pour qui") for t in titles), cid
        assert any(t.startswith("Comment ça marche") for t in titles), cid


def test_source_topics_match_source_file(guide):
    if not SOURCE.exists():
        pytest.skip("shared source not present")
    src = SOURCE.read_text("utf-8").lower()
    for topic in TOPICS:
        assert topic.split(",")[0] in src


def test_no_debris_in_narration(guide):
    narration = _narration(guide)
    assert not DEBRIS.search(narration), DEBRIS.search(narration)
    assert not re.search(r"[0-9€%/@#*•<>≥≤°«»_|]", narration)
    assert "http" not in narration and "www" not in narration


def test_announcement_says_where_the_listener_is(guide):
    w = ScriptWriter(guide)
    segs = w.chapter(guide.chapter("mon-espace-sante"))[0].segments
    first = " ".join(s.text for s in segs if s.kind == "announce")  # one clip per sentence, for the captions
    assert first == "Partie deux, Dossier patient. Sujet un : Mon espace santé. Page un sur six : qu'est-ce que c'est ?"


def test_every_acronym_of_the_guide_is_in_the_lexicon(guide):
    narration = _narration(guide)
    text = " ".join(b.text + " " + " ".join(b.items) + " " + " ".join(c.text + " ".join(c.items) for c in b.children)
                    for ch in guide.chapters for p in ch.pages for b in p.blocks)
    text += " " + " ".join(ch.title + " " + p.title for ch in guide.chapters for p in ch.pages)
    acronyms = set(re.findall(r"\b[A-ZÉ]{2,}\b", text))
    lex = {**default_lexicon(), **guide.lexicon}
    heading_words = {"VIH"}
    missing = sorted(a for a in acronyms - heading_words if a not in lex)
    assert not missing, missing
    assert {"DMP", "RGPD", "HAS", "AVC", "IMC", "CPAM", "SAMU", "EHPAD", "SAS", "SNDS", "SPIS"} <= acronyms
    # ...and the listener hears them as the lexicon says: spelled out, or read as a word.
    # (a clip that stops after one ends on "R.G.P.D," so that the voice rises: same letters, same phonemes)
    for spelled in ("D.M.P.", "R.G.P.D.", "C.P.A.M.", "S.N.D.S.", "S.P.I.S."):
        assert re.search(re.escape(spelled[:-1]) + r"[.,]", narration), spelled
    assert "Samu" in narration and "SAMU" not in narration
