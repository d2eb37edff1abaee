"""Speech fixes as in/out tables (no engine): addresses, prosody, units, agreement, and the voice-only lexicon."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audioguide.narration import normalize
from audioguide.narration.lexicon import Voice, lexicon_problems, voice_entries
from audioguide.narration.written import split_sentences

from conftest import examples

ADDRESSES = [
    ("monespacesante.fr", "mon espace santé point f r"),
    ("Rendez-vous sur www.monespacesante.fr.", "Rendez-vous sur mon espace santé point f r."),
    ("sante.fr", "santé point f r"),
    ("www.ameli.fr", "ameli point f r"),  # "ameli" is kept whole (no "âme li"); the voice says "amélie"
    ("impots.gouv.fr", "impôts point gouv point f r"),
    ("service-public.fr", "service tiret public point f r"),
    ("www.has-sante.fr", "H.A.S. tiret santé point f r"),
    ("doctolib.fr", "doctolib point f r"),
    ("mesdonneesdesante.fr", "mes données de santé point f r"),
]

PROSODY = [
    ("La BPCO, insuffisance cardiaque.", "La B.P.C.O., insuffisance cardiaque."),
    ("Le Dossier Médical Partagé (DMP) est gratuit.", "Le Dossier Médical Partagé, ou D.M.P., est gratuit."),
    ("des outils (internet, radio, etc.) utiles", "des outils, par exemple internet, radio, et cetera, utiles"),
    ("Il est là (si besoin) pour vous.", "Il est là, si besoin, pour vous."),
    ("Lisez « Se repérer dans la e-santé » demain.", "Lisez Se repérer dans la e-santé, demain."),
    ("Lisez « Se repérer dans la e-santé », puis partez.", "Lisez Se repérer dans la e-santé, puis partez."),
    ("la rubrique « Documents » de Mon espace santé", "la rubrique Documents de Mon espace santé"),
    ("Une solution pour tous ?.", "Une solution pour tous ?"),
    ("la création de l' Espace européen", "la création de l'Espace européen"),
    ("Partie cinq : la régulation de demain : le Sas", "Partie cinq : la régulation de demain, le Sas"),
    ("Deux : un. Trois : quatre : cinq.", "Deux : un. Trois : quatre, cinq."),
]

UNITS = [
    ("3 fois/jour", "trois fois par jour"),
    ("1 fois/jour", "une fois par jour"),
    ("25 €/mois", "vingt-cinq euros par mois"),
    ("Soit 25 €/mois.", "Soit vingt-cinq euros par mois."),
    ("2 séances/semaine", "deux séances par semaine"),
    ("10 mg/j", "dix milligrammes par jour"),
    ("la dose en mg/kg", "la dose en milligrammes par kilogramme"),
    ("en km/h", "en kilomètres par heure"),
    ("2 x 250 ml", "deux fois deux cent cinquante millilitres"),
    ("3×2 comprimés", "trois fois deux comprimés"),
    ("pendant 15 min", "pendant quinze minutes"),
    ("pendant 15 min.", "pendant quinze minutes."),
    ("1 min. de pause", "une minute de pause"),
    ("Pendant 15 min. Puis 1 min.", "Pendant quinze minutes. Puis une minute."),
    ("en 30 s", "en trente secondes"),
    ("pendant 7 j", "pendant sept jours"),
    ("pendant 2 h", "pendant deux heures"),
    ("oui/non", "oui ou non"),
    ("jour/nuit", "jour ou nuit"),
    ("en €/mois", "en euros par mois"),
    ("1,5 g/jour", "un virgule cinq gramme par jour"),
    ("le 12/03", "le douze mars"),
    ("1/3 des gens", "un tiers des gens"),
]

AGREEMENT = [
    ("1 seule fois", "une seule fois"),
    ("1 fois", "une fois"),
    ("21 semaines", "vingt et une semaines"),
    ("31 doses", "trente et une doses"),
    ("1 injection", "une injection"),
    ("de 1 euro", "d'un euro"),
    ("plus de 1 an", "plus d'un an"),
    ("moins de 1 fois", "moins d'une fois"),
    ("Il ne reste que 1 dose", "Il ne reste qu'une dose"),
    ("de 11 ans", "de onze ans"),
    ("de 8 ans", "de huit ans"),
]


@pytest.mark.parametrize("src,want", ADDRESSES + PROSODY + UNITS + AGREEMENT)
def test_table(src, want):
    assert normalize(src) == want


@pytest.mark.parametrize("text,want", [
    ("Le D.M.P. est un carnet. Il est gratuit.", ["Le D.M.P. est un carnet.", "Il est gratuit."]),
    ("Le D.M.P. Mon espace santé est là. Ensuite.", ["Le D.M.P. Mon espace santé est là.", "Ensuite."]),
    ("Voir la B.P.C.O. Puis la suite.", ["Voir la B.P.C.O. Puis la suite."]),
    ("Un. Deux ! Trois ? Quatre.", ["Un.", "Deux !", "Trois ?", "Quatre."]),
    # An initial before a name ends nothing; a letter after a common noun may end the sentence.
    ("Prenez rendez-vous avec le Dr J. Dupont au cabinet. Venez à jeun.",
     ["Prenez rendez-vous avec le Dr J. Dupont au cabinet.", "Venez à jeun."]),
    ("Le docteur J.-P. Martin vous reçoit. Merci.", ["Le docteur J.-P. Martin vous reçoit.", "Merci."]),
    ("Selon le Pr Martin, il manque de vitamine D. Le médecin la prescrit.",
     ["Selon le Pr Martin, il manque de vitamine D.", "Le médecin la prescrit."]),
    ("Le centre est au 12 bd J. Jaurès, au rez-de-chaussée. Entrée à gauche.",
     ["Le centre est au 12 bd J. Jaurès, au rez-de-chaussée.", "Entrée à gauche."]),
])
def test_never_split_after_an_acronym(text, want):
    assert split_sentences(text) == want


# --- the voice-only lexicon ----------------------------------------------------------------------

def test_written_text_keeps_the_word():
    assert normalize("L'algorithme du wifi, un mail, Google et le rythme.") == \
        "L'algorithme du wifi, un mail, Google et le rythme."


@pytest.mark.parametrize("written,heard", [
    ("L'algorithme", "L'algoritme"),
    ("le rythme de l'authentification", "le ritme de l'otantification"),
    ("un webinaire, des webinaires", "un ouébinaire, des ouébinaires"),
    ("la maladie de Crohn", "la maladie de Crône"),
    ("un mail, un e-mail", "un mèl, un imèl"),
    ("le wifi et le Bluetooth", "le ouifi et le Bloutousse"),
    ("Google, un login, le cloud", "Gougueule, un loguine, le claoude"),
    ("et cetera", "et sétéra"),
    ("ameli point f r", "amélie point f r"),
    ("la B.P.C.O., insuffisance", "la B.P.C.O, insuffisance"),
    ("le D.M.P. est là", "le D.M.P est là"),
    ("cérébraux, ou A.V.C. Elle permet", "cérébraux, ou A.V.C. Elle permet"),  # a real sentence end
    ("salut", "salut"),
])
def test_espeak_hears_the_fix(written, heard):
    assert Voice(phonemes=True)(written) == heard


def test_phonemes_only_for_engines_that_read_them():
    lex = {"Truc": "[[tR'yk]]"}
    assert Voice(lex, phonemes=True)("le Truc et l'Truc") == "le [[tR'yk]] et [[ltR'yk]]"
    # piper, gtts…: the written word, never "[["
    assert Voice(lex, phonemes=False)("le Truc et l'Truc") == "le Truc et l'Truc"
    assert not any("[[" in v for v in voice_entries(lex, phonemes=False).values())


def test_phoneme_and_allow_entries_never_reach_the_written_text():
    lex = {"Truc": "[[tR'yk]]", "Bluetooth": "allow", "HTML": "allow"}
    assert normalize("Le Truc en Bluetooth et HTML.", lex) == "Le Truc en Bluetooth et HTML."
    assert Voice(lex, phonemes=True)("le Bluetooth") == "le Bluetooth"  # allowed: as written, even for espeak
    assert lexicon_problems(lex) == []


def test_half_written_phonemes_are_a_guide_error(tmp_path):
    from audioguide.exceptions import GuideError
    from audioguide.guide import load_guide

    guide = tmp_path / "guide.yaml"
    src = (Path(__file__).parent / "data" / "mini" / "guide.yaml").read_text("utf-8")
    guide.write_text(src + "lexicon:\n  Truc: \"le [[tRyk\"\n", "utf-8")
    with pytest.raises(GuideError) as err:
        load_guide(tmp_path)
    assert "lexicon.Truc" in str(err.value) and "[[…]]" in str(err.value)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.sampled_from(["Truc", "l'Truc", "truc", "mail", "wifi", "DMP", "(", ")", "«", "»", ",", ".", "/",
                                 "x", "2", "€", "l'", "e-mail", "Google", "ameli.fr"]), max_size=20).map(" ".join))
def test_voice_never_gives_other_engines_brackets(text):
    said = Voice({"Truc": "[[tR'yk]]"}, phonemes=False)(normalize(text))
    assert "[[" not in said


@settings(max_examples=examples(150), deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["jour", "semaine", "mois", "j", "h", "min"]),
       st.sampled_from(["fois", "€", "mg", "séances", "euros"]))
def test_slash_between_quantity_and_unit_is_par(n, per, unit):
    out = normalize(f"{n} {unit}/{per}")
    assert " par " in out and " ou " not in out and "/" not in out


@settings(max_examples=examples(150), deadline=None)
@given(st.integers(min_value=1, max_value=999), st.sampled_from(["fois", "semaines", "doses", "heures", "seule"]))
def test_numerals_agree_with_feminine_words(n, noun):
    out = normalize(f"{n} {noun}")
    assert not out.endswith(f"un {noun}") or out.endswith(f"une {noun}")
    assert not out.startswith("un ")


@settings(max_examples=examples(100), deadline=None)
@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=999))
def test_x_between_numbers_is_fois(a, b):
    out = normalize(f"{a} x {b}")
    assert " fois " in out and " x " not in out
