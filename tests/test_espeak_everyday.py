"""espeak-ng's own misreadings of everyday health French (issue 23), fixed through the voice-only lexicon.

Each case runs the build's path: normaliser, then the voice pass, then real espeak-ng (`-x` phonemes).
"""

import shutil
import subprocess

import pytest

from audioguide.narration import normalize
from audioguide.narration.lexicon import Voice

pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is needed")


def heard(written: str, lexicon: dict | None = None) -> str:
    """espeak-ng's phonemes for what the build gives it."""
    said = Voice(lexicon, phonemes=True)(normalize(written, lexicon))
    out = subprocess.run(["espeak-ng", "-v", "fr", "-q", "-x", said], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


@pytest.mark.parametrize("written", ["Venez à jeun.", "Prise de sang à jeun le matin.", "Restez à jeun depuis minuit."])
def test_a_jeun_has_the_nasal_vowel_of_un(written):
    ph = heard(written)
    assert "ZW~" in ph.replace("'", "").replace(",", "")  # /ʒœ̃/
    assert "ZWn" not in ph.replace("'", "")  # not "jeune"


def test_prep_is_a_word_not_professeur():
    ph = heard("La PrEP protège du VIH.")
    assert "profEs" not in ph
    assert "pr'Ep" in ph


@pytest.mark.parametrize("written", ["Votre HbA1c est à 7 %.", "L'HbA1c mesure la glycémie des trois derniers mois."])
def test_hba1c_stays_french(written):
    ph = heard(written)
    assert "(en)" not in ph
    assert "aS" in ph and "b,e'a" in ph  # H, B, A said as French letters


@pytest.mark.parametrize("written", ["Une IRM est prévue.", "Un IMC élevé.", "Les IST se soignent.",
                                     "Des IRM et des IVG."])
def test_acronym_starting_with_i_does_not_glide(written):
    ph = heard(written)
    # The I is its own vowel 'i, never the glide j before the next letter ("une yèrèm").
    assert " j," not in ph and " j'" not in ph, ph
    assert "'i" in ph


def test_publisher_name_keeps_its_final_s():
    # The e-santé guide no longer allows "Assos" as written: the shipped fix reaches the voice.
    from pathlib import Path

    import yaml

    guide = yaml.safe_load((Path(__file__).parents[1] / "guides" / "e-sante" / "guide.yaml").read_text("utf-8"))
    ph = heard("France Assos Santé, la voix des usagers.", guide.get("lexicon"))
    assert "as'Os" in ph
    assert "as'o " not in ph


def test_everyday_sentences_never_switch_language():
    sentences = ["Appelez le 0 800 123 456.", "Dose de 15 mg/kg/jour.", "Ouvert lun.-ven. 9h-12h / 14h-17h.",
                 "Voir www.ameli.fr/assure/remboursements.", "Glycémie à jeun ≤ 1,26 g/L.", "Art. L. 1111-2."]
    for s in sentences:
        assert "(en)" not in heard(s), s


def test_spelled_acronym_with_h_after_an_elision_stays_french():
    for written in ["L'HAS recommande le dépistage.", "Le rôle de l'HbA1c."]:
        ph = heard(written)
        assert "(en)" not in ph, ph
        assert "'aS" in ph
