"""The level grammar: what a guide calls its parts, chapters and pages, and how French puts them in a
sentence ("le sujet suivant", "de la page", "à l'étape")."""

from __future__ import annotations

from dataclasses import dataclass

# Gender of the level names people usually give; another noun is written with its article ("la fiche").
NOUN_GENDER = {"partie": "f", "sujet": "m", "page": "f", "chapitre": "m", "section": "f", "fiche": "f",
               "thème": "m", "module": "m", "leçon": "f", "étape": "f", "rubrique": "f", "question": "f",
               "volet": "m", "livret": "m", "épisode": "m", "séquence": "f", "séance": "f", "unité": "f",
               "article": "m", "point": "m", "dossier": "m", "cahier": "m", "carnet": "m", "titre": "m"}
ARTICLES = {"le": "m", "la": "f", "un": "m", "une": "f"}
_CONTRACTIONS = {("de", "le"): "du", ("de", "les"): "des", ("à", "le"): "au", ("à", "les"): "aux"}


def after(preposition: str, phrase: str) -> str:
    """'de' or 'à' before a noun phrase, contracted as French requires: de + le sujet -> du sujet,
    à + les parties -> aux parties; la and l' stay as they are."""
    first, _, rest = phrase.partition(" ")
    short = _CONTRACTIONS.get((preposition.lower(), first.lower()))
    if short:
        return " ".join(filter(None, (short if preposition[:1].islower() else short.capitalize(), rest)))
    return f"{preposition} {phrase}"


@dataclass(frozen=True)
class Level:
    """The name of one level of a guide, with what French grammar needs to put it in a sentence."""

    noun: str
    feminine: bool

    @property
    def title(self) -> str:
        """Capitalised, to start a sentence: "Sujet"."""
        return self.noun[:1].upper() + self.noun[1:]

    @property
    def plural(self) -> str:
        return self.noun if self.noun[-1:] in "sxz" else self.noun + "s"

    @property
    def _elides(self) -> bool:
        return self.noun[:1].lower() in "aeiouyhàâéèêëîïôöûüœ"

    @property
    def article(self) -> str:
        """"le" or "la", before an adjective ("la suivante") or as a pronoun ("la réécouter")."""
        return "la" if self.feminine else "le"

    @property
    def the(self) -> str:
        """With its definite article: "le sujet", "la page", "l'étape"."""
        return f"l'{self.noun}" if self._elides else f"{self.article} {self.noun}"

    @property
    def of_the(self) -> str:
        """"du sujet", "de la page", "de l'étape"."""
        return after("de", self.the)

    @property
    def to_the(self) -> str:
        """"au sujet", "à la page", "à l'étape"."""
        return after("à", self.the)

    def agree(self, masculine: str, feminine: str) -> str:
        return feminine if self.feminine else masculine


@dataclass(frozen=True)
class Levels:
    """What the guide calls its levels: one name each, used alike by the audio, phone, kiosk and feed."""

    part: Level = Level("partie", True)
    chapter: Level = Level("sujet", False)
    page: Level = Level("page", True)


