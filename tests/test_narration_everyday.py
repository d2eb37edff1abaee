"""In/out pairs for the rules of issue 23, section 2, written with the rules: above all what they must NOT
touch (a count is not a service number, "sept." alone is seven, a fraction stays a fraction). The blind table
(test_blind_fr.py) checks the classes from outside."""

import pytest

from audioguide.narration import normalize

CASES = [
    # service numbers, and counts that stay counts
    ("Le 3919 écoute.", "Le trente-neuf dix-neuf écoute."),
    ("En 2023, 3000 patients.", "En deux mille vingt-trois, trois mille patients."),
    ("Il reste 3450 places.", "Il reste trois mille quatre cent cinquante places."),
    ("Le 3000 m.", "Le trois mille mètres."),
    ("Le 116 006 aide les victimes.", "Le cent seize, zéro zéro six aide les victimes."),
    ("Numéro vert : 0 800 23 13 13.", "Numéro vert : zéro huit cents, vingt-trois, treize, treize."),
    # "nos"
    ("nos 12 conseils", "nos douze conseils"),
    ("le bus no 21", "le bus numéro vingt et un"),
    # brackets
    ("le dossier médical (DMP) du patient", "le dossier médical, ou D.M.P., du patient"),
    ("Remboursé à 100 % (ALD).", "Remboursé à cent pour cent, A.L.D."),
    # slashes
    ("1/3 des patients", "un tiers des patients"),
    ("3/10", "trois dixièmes"),
    ("une douleur à 7/10", "une douleur à sept sur dix"),
    ("tension à 12/8", "tension à douze huit"),
    ("fermé le 14/7", "fermé le quatorze juillet"),
    ("la saison 2024/2025", "la saison deux mille vingt-quatre, deux mille vingt-cinq"),
    ("en mg/kg/j", "en milligrammes par kilo par jour"),
    ("2 L/min", "deux litres par minute"),
    ("jour/nuit", "jour ou nuit"),
    # abbreviations
    ("Il en a sept.", "Il en a sept."),
    ("le 1er oct. 2025", "le premier octobre deux mille vingt-cinq"),
    ("du lun. au ven. midi", "du lundi au vendredi midi"),
    ("2 c. à s.", "deux cuillères à soupe"),
    ("en 50 av. J.-C.", "en cinquante avant Jésus-Christ"),
    ("12 av. Foch", "douze avenue Foch"),
    ("Louis XIV et le chapitre II", "Louis quatorze et le chapitre deux"),
    ("l'article D. 162-1", "l'article D cent soixante-deux tiret un"),
    # signs
    ("de 10-20 %", "de dix à vingt pour cent"),
    ("entre 10-20 %", "entre dix et vingt pour cent"),
    ("les enfants < 2 ans", "les enfants moins de deux ans"),
    ("une glycémie ≥ 1,26 g/L", "une glycémie supérieure ou égale à un virgule vingt-six gramme par litre"),
    ("des valeurs < 5", "des valeurs inférieures à cinq"),
    ("J-1", "J moins un"),
    ("2/3 des votes", "deux tiers des votes"),
    ("Les résultats (p < 0,05) sont nets.", "Les résultats, p moins de zéro virgule zéro cinq, sont nets."),
    # fractions, ratios, times
    ("vers 1:00 du matin", "vers une heure du matin"),
    ("En 1:05 du matin", "En une heure cinq du matin"),
    ("1 ½ heure", "une heure et demie"),
    ("2 ½ comprimés", "deux comprimés et demi"),
    ("½ verre", "un demi verre"),
    ("à 1:30", "à une heure trente"),
    ("rendez-vous à 14:30", "rendez-vous à quatorze heures trente"),
    ("une dilution 1:100", "une dilution un pour cent"),
    ("de 9h à 12h / de 14h à 18h", "de neuf heures à douze heures et de quatorze heures à dix-huit heures"),
    ("24h/24", "vingt-quatre heures sur vingt-quatre"),
    # addresses
    ("sur 3237.fr", "sur trente-deux trente-sept point f r"),
    ("sur monespacesante.fr/aide", "sur mon espace santé point f r barre oblique aide"),
    ("sur ameli.fr/a/b", "sur ameli point f r, adresse complète dans le texte écrit"),
]


@pytest.mark.parametrize("src,want", CASES)
def test_everyday(src, want):
    assert normalize(src) == want


@pytest.mark.parametrize("src,want", [
    ("Au bord de la mer. Il fait beau.", "Au bord de la mer. Il fait beau."),
    ("C'est le jeu. Tout le monde joue.", "C'est le jeu. Tout le monde joue."),
    ("Ouvert lun. et ven., le matin.", "Ouvert lundi et vendredi, le matin."),
    ("lun., mer., ven. 9h-12h", "lundi, mercredi, vendredi de neuf heures à douze heures"),
    ("chaque mer. de 10 h à 11 h", "chaque mercredi de dix heures à onze heures"),
    ("fermé le sam. 14 déc.", "fermé le samedi quatorze décembre."),
])
def test_a_day_abbreviation_only_in_a_schedule(src, want):
    assert normalize(src) == want
