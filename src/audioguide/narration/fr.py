"""French normalisation steps: each is a small pure `str -> str` function (gTTS-style pre-processors).

They run in the order of STEPS. Data tables live in narration/data/. Each step only rewrites what it
recognises, so an unknown construction degrades to plain reading, never to a spoken symbol.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache, partial

from audioguide.narration import tables
from audioguide.narration.inline import INVISIBLE
from audioguide.narration.lexicon import say_acronym, sayable
from audioguide.narration.numbers import (
    ROMAN_RE,
    cardinal,
    decimal,
    digits_to_int,
    ordinal,
    phone_pairs,
    roman_to_int,
    short_number,
)

L = "A-Za-zÀ-ÖØ-öø-ÿŒœÆæ"  # letters, for boundaries that \b gets wrong around digits
UP = "A-ZÀ-ÖØ-ÞŒÆ"
GROUPED = r"\d{1,3}(?:[ .]\d{3})+(?![\d])"  # 10 000, 1.500.000
INT = rf"(?:{GROUPED}|\d+)"
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def _sub(pattern: str, repl, text: str, flags: int = 0) -> str:
    return re.sub(pattern, repl, text, flags=flags)


def _clause_before(m: re.Match, width: int = 40, marks: str = ".;,!?:()\n") -> str:
    """The words before a match, back to the last clause or sentence mark: the context a cue must be in."""
    return re.split(rf"[{re.escape(marks)}](?:\s|(?<=\()|(?<=\)))", m.string[max(0, m.start() - width):m.start()])[-1]


def _num(s: str, feminine: bool = False) -> str:
    return cardinal(digits_to_int(s), feminine)


def _is_plural(int_part: str, frac: str | None) -> bool:
    value = digits_to_int(int_part) + (float("0." + frac) if frac else 0)
    return value >= 2


# --- 1. characters -----------------------------------------------------------------------------

_VULGAR = {"½": ("demi", "et demi"), "¼": ("quart", "et quart"), "¾": ("trois quarts", "et trois quarts"),
           "⅓": ("tiers", "et un tiers"), "⅔": ("deux tiers", "et deux tiers")}


_NOT_NOUNS = {"à", "a", "au", "de", "du", "des", "d", "ou", "et", "en", "par", "pour", "sur", "le", "la", "les"}


def _vulgar(m: re.Match) -> str:
    """'1 ½ comprimé' -> '1 comprimé et demi', '1 ½ heure' -> '1 heure et demie', '½' -> 'un demi'."""
    whole, frac, noun = m.group(1), m.group(2), m.group(3)
    single, after = _VULGAR[frac]
    if whole:
        if noun and noun.lower() not in _NOT_NOUNS:
            if frac == "½" and noun.lower() in tables.feminine_nouns():
                after += "e"
            return f"{whole} {noun} {after}"
        return f"{whole} {after}" + (f" {noun}" if noun else "")
    return (single if " " in single else f"un {single}") + (f" {noun}" if noun else "")


def unicode_cleanup(text: str) -> str:
    """Canonical characters: NFKC (ligatures, superscripts, full-width), no invisible or control marks.
    Vulgar fractions are said before NFKC turns them into '1⁄2': '1 ½' -> '1 et demi', '½' -> 'un demi'."""
    text = INVISIBLE.sub("", text)
    text = _sub(r"\b([nN])\s?º", r"\1°", text)  # the ordinal indicator: NFKC would make it "no"
    text = _sub(rf"(?:(\d+)\s?)?([½¼¾⅓⅔])(?:\s+([{L}]+(?![{L}'])))?", _vulgar, text)
    text = unicodedata.normalize("NFKC", text).replace("⁄", "/")
    text = text.replace("’", "'").replace("‘", "'").replace("´", "'").replace("ʼ", "'")
    text = text.replace("−", "-").replace("‐", "-").replace("‑", "-")
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn") else c
                   for c in text)
    text = re.sub(r"\.\s\.\s\.", "...", text)
    text = re.sub(r"\s+[–—]\s+", ", ", text)  # spaced dashes are pauses
    return text.replace("–", "-").replace("—", ", ")


def strip_markdown(text: str) -> str:
    """Markdown emphasis, links and list bullets become plain text."""
    text = _sub(r"\[([^\]]*)\]\(([^)]*)\)", lambda m: m.group(1) or m.group(2), text)
    text = _sub(r"<((?:https?://|mailto:)[^>\s]+)>", r"\1", text)
    text = _sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = _sub(r"__(.+?)__", r"\1", text)
    text = _sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = _sub(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])", r"\1", text)
    text = _sub(r"`([^`]*)`", r"\1", text)
    text = _sub(r"(?m)^\s*#{1,6}\s+", "", text)
    text = _sub(r"(?m)^\s*(?:[-*•]|>(?!\s*\d)|\d+[.)])\s+", "", text)
    return text


def strip_decorations(text: str) -> str:
    """Emoji, arrows and dingbats are decoration: arrows become a pause, the rest disappears."""
    out = []
    for ch in text:
        cp = ord(ch)
        if 0x2190 <= cp <= 0x21FF or ch in "➤➔➜➝➞➡▶▷►◀◁◄":
            out.append(", ")
        elif (0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF
              or 0x25A0 <= cp <= 0x25FF or 0xFE00 <= cp <= 0xFE0F or 0x2700 <= cp <= 0x27BF
              or unicodedata.category(ch) in ("So", "Sk") and ch not in "°©®"):
            out.append(" ")
        else:
            out.append(ch)
    text = "".join(out)
    return text.replace("©", " copyright ").replace("®", " ")


# --- 2. addresses --------------------------------------------------------------------------------

TLDS = ("fr|com|org|net|eu|gouv|info|io|be|ch|ca|de|uk|int|edu|re|lu|mc|tv|app|health|sante|bzh|paris|"
        "gp|mq|gf|yt|nc|pf")
_SPELL_TLD = {"fr", "eu", "io", "be", "ch", "ca", "de", "uk", "re", "lu", "mc", "tv", "gp", "mq", "gf", "yt",
              "nc", "pf"}
_DOMAIN = rf"(?:[\w-]+\.)+(?:{TLDS})(?![\w-])"
_URL = re.compile(rf"(?:https?://|www\.)[^\s<>\"«»)]+|(?<![\w@.-]){_DOMAIN}(?:/[^\s<>\"«»)]*)?", re.I)
_EMAIL = re.compile(r"[\w.+-]+@(?:[\w-]+\.)+[A-Za-z]{2,}")


# Short words a domain may be made of; any other piece must have three letters or more, so that a name
# like "ameli" is never cut into scraps ("âme li").
_DOMAIN_SHORT_WORDS = {"mon", "ma", "mes", "le", "la", "les", "de", "du", "des", "en", "au", "aux", "et", "un",
                       "une", "sa", "son", "ses", "ton", "ta", "tes", "vos", "nos"}


def _word(piece: str) -> str | None:
    """'sante' -> 'santé' when the word list knows it (accents restored), else None."""
    if len(piece) < 3 and piece not in _DOMAIN_SHORT_WORDS:
        return None
    return tables.french_words().get(piece)


def segment_label(label: str) -> str:
    """'monespacesante' -> 'mon espace santé': the fewest dictionary words that make up the label.
    A label that is not made of words is kept whole ('doctolib', 'ameli')."""
    low = label.lower()
    if not low.isascii() or not low.isalpha() or len(low) > 40:
        return label
    best: list[list[str] | None] = [[]] + [None] * len(low)
    for end in range(1, len(low) + 1):
        for start in range(max(0, end - 16), end):
            prev = best[start]
            if prev is None:
                continue
            word = _word(low[start:end])
            if word and ((cur := best[end]) is None or len(prev) + 1 < len(cur)):
                best[end] = prev + [word]
    return " ".join(best[-1]) if best[-1] else label


def _say_piece(piece: str) -> str:
    if piece.isdigit():  # 3114.fr: the service number's site, said like the number
        return short_number(piece) if len(piece) in (4, 6) else " ".join(cardinal(int(d)) for d in piece) \
            if len(piece) > 4 else cardinal(int(piece))
    acronyms = tables.acronyms()
    if piece.upper() in acronyms:  # has-sante: the H.A.S., not the English word
        return say_acronym(piece.upper(), acronyms)
    return segment_label(piece)


def _say_label(label: str, last: bool = False) -> str:
    if last and label.lower() in _SPELL_TLD:
        return " ".join(label.lower())
    return " tiret ".join(_say_piece(p) for p in label.split("-"))


def say_host(host: str) -> str:
    """'www.monespacesante.fr' -> 'mon espace santé point f r': "www." dropped, words split out of the
    label with the French word list, accents restored ('sante' -> 'santé')."""
    host = host.strip(".")
    if host.lower().startswith("www."):
        host = host[4:]
    labels = host.split(".")
    return " point ".join(_say_label(x, i == len(labels) - 1) for i, x in enumerate(labels))


def _path_words(path: str) -> str | None:
    """'aide' -> 'aide', 'la-mdph' -> 'la MDPH', 'vosdroits' -> 'vos droits'; None for a path a listener could
    not type from hearing it: file names, queries, codes, more than one level."""
    segments = [p for p in path.strip("/").split("/")]
    if len(segments) > 1 or re.search(r"[?=#&.%~]", path):
        return None
    out = []
    for seg in segments:
        pieces = [p for p in re.split(r"[-_]", seg) if p]
        said = []
        for piece in pieces:
            if not piece.isalpha():
                return None
            if piece.upper() in tables.acronyms():
                said.append(piece.upper())
                continue
            word = segment_label(piece.lower())
            if word == piece.lower() and not _word(piece.lower()):
                return None
            said.append(word)
        if not said or len(said) > 5:
            return None
        out.append(" ".join(said))
    return out[0]


def _say_local(piece: str) -> str:
    """A word of an e-mail's local part: an acronym in capitals for the lexicon, accents restored ('sante')."""
    if piece.upper() in tables.acronyms() and not tables.is_french_word(piece):
        return piece.upper()
    return _word(piece.lower()) or piece if piece.islower() else piece


def urls_and_emails(text: str) -> str:
    """E-mails and web addresses are said as a person would: 'contact arobase exemple point f r'."""
    def email(m: re.Match) -> str:
        local, _, host = m.group(0).partition("@")
        local = re.sub(r"[^\W\d_]+", lambda w: _say_local(w.group(0)), local)
        local = re.sub(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])", " ", local)  # mdph93: MDPH 93
        local = local.replace(".", " point ").replace("_", " tiret bas ").replace("-", " tiret ")
        return f"{local} arobase {say_host(host)}"

    text = _EMAIL.sub(email, text)

    def url(m: re.Match) -> str:
        raw = m.group(0).rstrip(".,;:!?")
        tail = m.group(0)[len(raw):]
        has_scheme = bool(re.match(r"https?://", raw, re.I))
        rest = re.sub(r"^(?:https?://)", "", raw, flags=re.I)
        host, _, path = rest.partition("/")
        if not re.search(r"\.(?:[A-Za-z]{2,})$", host):
            return m.group(0)
        spoken = say_host(host)
        before = text[max(0, m.start() - 25):m.start()].lower()
        if (has_scheme or path.strip("/")) and not re.search(r"\b(?:site|sur|adresse|portail|page)\b", before):
            spoken = "le site " + spoken
        if path.strip("/"):
            # A deep link said as its domain would send the listener to the home page: a short path of
            # words is read out, any other is pointed to in the written text.
            words = _path_words(path)
            spoken += f" barre oblique {words}" if words else " (adresse complète dans le texte écrit)"
        return spoken + tail

    return _URL.sub(url, text)


# --- 2b. asides and titles ------------------------------------------------------------------------

_ACRONYM_ONLY = re.compile(rf"[{UP}][{UP}&]+[{UP}]?s?")


def _expands(acronym: str, before: str) -> bool:
    """Do the words just before the brackets spell the acronym ('Dossier Médical Partagé' for DMP)?
    Its letters must be, in order, initials of those words (or of their hyphenated parts), starting with the
    first word of a short window that ends at the brackets."""
    letters = tables.unaccented(re.sub(r"s$", "", acronym) if len(acronym) > 2 else acronym).lower()
    letters = re.sub(r"[^a-z]", "", letters)
    words = re.findall(rf"[{L}0-9]+", tables.unaccented(before.lower()))[-(2 * len(letters) + 3):]
    initials = [w[0] for w in words]
    def spelled(wanted: str, initials: list[str]) -> bool:
        for start in range(len(initials)):
            if initials[start] == wanted[0]:
                it = iter(initials[start:])
                if all(c in it for c in wanted[1:]):
                    return True
        return False

    # "le dossier médical (DMP)": the words may stop one letter short, when the last word said is the
    # acronym's last-but-one letter.
    return spelled(letters, initials) or (len(letters) >= 3 and bool(initials) and initials[-1] == letters[-2]
                                          and spelled(letters[:-1], initials))


def asides(text: str) -> str:
    """Brackets and quoted titles are heard as such, not as one more item of a list:
    'Dossier Médical Partagé (DMP)' -> 'Dossier Médical Partagé, ou DMP,';
    '(internet, radio, etc.)' -> ', par exemple internet, radio, etc.,';
    'lire « Se repérer dans la e-santé » avant' -> 'lire Se repérer dans la e-santé, avant' (the pause ends it)."""
    def bracket(m: re.Match) -> str:
        inner = m.group(1).strip()
        if _ACRONYM_ONLY.fullmatch(inner):
            # ", ou DMP" only when the brackets name the words just said; "100 % (ALD)" is a plain aside.
            clause = re.split(r"[.;:!?()]", m.string[:m.start()])[-1]
            return f", ou {inner}," if _expands(inner, clause) else f"({inner})"
        if re.search(r",.*\betc\.?$", inner) and not re.match(r"(?i)(?:par exemple|ex\b|comme|notamment)", inner):
            return f", par exemple {inner},"
        return f"({inner})"

    def title(m: re.Match) -> str:
        inner = m.group(1)
        # A title of three words or more ends with a pause, so the sentence is heard to resume after it;
        # a quoted term ("la rubrique « Documents »") is just said.
        return inner + ("," if len(inner.split()) >= 3 and not re.match(r"\s*[,.;:!?)]", m.string[m.end():]) else "")

    text = _sub(r"\(([^()]{1,200})\)", bracket, text)
    return _sub(r"[«“]\s*([^«»“”]{1,200}?)\s*[»”]", title, text)


# --- 3. abbreviations ------------------------------------------------------------------------

def _minutes(m: re.Match) -> str:
    """'15 min.' is minutes, not "minimum"; its dot ends the sentence only before a capital or the end."""
    int_part, _, frac = m.group(1).partition(",")
    unit = "minutes" if _is_plural(int_part, frac or None) else "minute"
    return f"{m.group(1)} {unit}" + ("." if m.group(2) is not None else "")


def _spoon(m: re.Match) -> str:
    """'1 c. à s.' -> 'une cuillère à soupe', '2 c. à c.' -> 'deux cuillères à café'."""
    count = m.group(1) or ""
    plural = bool(count) and _is_plural(*(count.strip().split(",") + [None])[:2])
    noun = ("C" if m.group(2) == "C" and not count else "c") + ("uillères" if plural else "uillère")
    return f"{count}{noun} à {'soupe' if m.group(3) in 'sS' else 'café'}"


_LAW = re.compile(r"\b((?:[aA]rt\.|[aA]rticles?)\s+)([LRD])\.?\s?(\d+(?:-\d+)*)\b(?![,.]\d)")


def legal_references(text: str) -> str:
    """'art. L. 1111-2' -> 'article L mille cent onze tiret deux': the code's part letter and the
    article's number with its dashes, never 'cinquante.' (a Roman L) nor a range."""
    def ref(m: re.Match) -> str:
        head = re.sub(r"^([aA])rt\.\s+", lambda a: ("a" if a.group(1) == "a" else "A") + "rticle ", m.group(1))
        parts = m.group(3).split("-")
        return head + m.group(2) + " " + " tiret ".join(cardinal(int(p)) for p in parts)

    return _LAW.sub(ref, text)


_DAYS = {"lun": "lundi", "mar": "mardi", "mer": "mercredi", "jeu": "jeudi", "ven": "vendredi", "sam": "samedi",
         "dim": "dimanche"}
_MONTH_ABBR = {"janv": "janvier", "janvr": "janvier", "fév": "février", "févr": "février", "fevr": "février",
               "avr": "avril", "juil": "juillet", "sept": "septembre", "oct": "octobre", "nov": "novembre",
               "déc": "décembre", "dec": "décembre"}


def _end_dot(m: re.Match) -> str:
    """An abbreviation's dot also ends the sentence at the end of the text or before a capital."""
    return "." if re.match(r"\s*$|\s+[A-ZÀ-Ý]", m.string[m.end():]) else ""


def weekdays_and_months(text: str) -> str:
    """'lun.-ven.' -> 'du lundi au vendredi'; 'ven.' -> 'vendredi'; '12 sept.' -> '12 septembre'.
    A month needs a day number before it or a year after it: 'sept.' alone is the number seven."""
    days = "|".join(_DAYS)

    def cap(word: str, like: str) -> str:
        return word.capitalize() if like[:1].isupper() else word

    def day_range(m: re.Match, first: str = "", last: str = "") -> str:
        before = m.string[max(0, m.start() - 4):m.start()].lower()
        a, b = _DAYS[(first or m.group(1)).lower()], _DAYS[(last or m.group(2)).lower()]
        lead = "" if re.search(r"\bdu\s*$", before) else cap("du ", m.group(1))
        return f"{lead}{a if lead else cap(a, m.group(1))} au {b}"

    full = "|".join(_DAYS.values())
    text = _sub(rf"\b((?i:{full}))\s?[-–]\s?((?i:{full}))\b", lambda m: day_range(m, m.group(1)[:3], m.group(2)[:3]),
                text)
    text = _sub(rf"\b((?i:{days}))\.?\s?[-–]\s?((?i:{days}))\.?(?![{L}])", day_range, text)
    # "mer." and "jeu." are also words ("la mer.", "le jeu."): a day only in a schedule, that is before a date,
    # a time, another day or "au", or after another day or "chaque".
    def day(m: re.Match) -> str:
        schedule = re.match(rf"\s*(?:\d|de\s+\d|(?:au|à|et|matin|midi|soir|après-midi)\b|[-–]|,\s*(?:{days})\.)",
                            m.string[m.end():], re.I) \
            or re.search(rf"(?:\b(?:{days}|{full})\.?,?\s+(?:et\s+)?|\bchaque\s+)$", m.string[:m.start()], re.I)
        return cap(_DAYS[m.group(1).lower()], m.group(1)) + _end_dot(m) if schedule else m.group(0)

    text = _sub(rf"\b((?i:{days}))\.(?=\s|$|[,;:!?)])", day, text)
    months = "|".join(sorted(_MONTH_ABBR, key=len, reverse=True))
    # "juil.-août": a span of months.
    text = _sub(rf"\b((?i:{months}))\.\s?[-–]\s?(?:({'|'.join(MONTHS)})\b|((?i:{months}))\.)",
                lambda m: f"{_MONTH_ABBR[m.group(1).lower()]}, {m.group(2) or _MONTH_ABBR[m.group(3).lower()]}", text)
    text = _sub(rf"(?:(?<=\d\s)|(?<=\der\s))((?i:{months}))\.(?=\s|$|[,;:!?)])"
                rf"|(?<![\w.])((?i:{months}))\.?(?=\s?\d{{4}}\b)",
                lambda m: _MONTH_ABBR[(m.group(1) or m.group(2)).lower()] + (_end_dot(m) if m.group(1) else ""),
                text)
    return text


def _said_abbr(spoken: str, m: re.Match[str]) -> str:
    """At the very end, the abbreviation's period also ends the sentence."""
    return spoken + ("." if not m.string[m.end():].strip() else "")


@lru_cache(maxsize=1)
def _abbreviation_table() -> dict[str, str]:
    """The table, plus each dotted lower-case entry with a capital ('Env.', 'Bât.') at a sentence start."""
    table = dict(tables.abbreviations())
    for abbr, spoken in list(table.items()):
        if abbr.endswith(".") and abbr[:1].islower() and abbr.capitalize() not in table:
            table[abbr[:1].upper() + abbr[1:]] = spoken[:1].upper() + spoken[1:]
    return table


def abbreviations(text: str) -> str:
    """M., Mme, Dr, etc., ex :, n°, p. 12, Tél. become words."""
    text = _sub(r"\b[nN]\s?°\s?(?=\d)", "numéro ", text)
    text = _sub(r"\b[nN]°", "numéro", text)
    # "no 21", "No. 4" are "numéro"; "nos 150 bénévoles" is the word "nos" (only "nos." with a dot is plural).
    text = _sub(r"\b([nN])os\.\s?(?=\d)", lambda m: "numéros " if m.group(1) == "n" else "Numéros ", text)
    text = _sub(r"\b([nN])o\.?\s?(?=\d)", lambda m: "numéro " if m.group(1) == "n" else "Numéro ", text)
    # "loi n° 2002-303": a reference's dash is said "tiret", never a range.
    text = _sub(r"(?<=\bnuméro )(\d+(?:-\d+)+)\b(?![,.]\d)",
                lambda m: " tiret ".join(cardinal(int(p)) for p in m.group(1).split("-")), text, re.I)
    text = legal_references(text)
    text = _sub(r"\b([aA])v\.\s?J\.?-?C\.", lambda m: "avant Jésus-Christ" if m.group(1) == "a"
                else "Avant Jésus-Christ", text)
    text = _sub(r"\b([aA])pr\.\s?J\.?-?C\.", lambda m: "après Jésus-Christ" if m.group(1) == "a"
                else "Après Jésus-Christ", text)
    text = _sub(r"\b(\d+(?:,\d+)?\s)?([cC])\.?\s?à\s?([sScC])\.(?=\s|$|[,;:!?)])", _spoon, text)
    text = weekdays_and_months(text)
    text = _sub(r"(?<!\d)(?<!\d\s)\bmmHg\b", "millimètres de mercure", text)
    text = _sub(r"\b(?:[eE]x|[pP]\.\s?ex)\s?[.:]\s?", "par exemple, ", text)
    text = _sub(r"\bpp\.\s?(?=\d)", "pages ", text)
    text = _sub(r"\bp\.\s?(?=\d)", "page ", text)
    text = _sub(r"\bM\.\s(?=[A-ZÀ-Ý])", "monsieur ", text)
    text = _sub(r"\b(\d+(?:,\d+)?)\s?min\.(?=(\s*$|\s+[A-ZÀ-Ý])?)", _minutes, text)
    for abbr, spoken in _abbreviation_table().items():
        if abbr.endswith("."):
            # At the very end, the abbreviation's period also ends the sentence.
            text = re.sub(rf"(?<![\w./-]){re.escape(abbr)}(?=\s|$|[,;:!?)])", partial(_said_abbr, spoken), text)
        else:
            text = re.sub(rf"(?<![\w.-]){re.escape(abbr)}(?![\w'-])", spoken, text)
    return text


# --- 4. phone numbers ------------------------------------------------------------------------

_PHONE_CUE = re.compile(r"(?:t[ée]l[ée]phone|t[ée]l\b|appel|appelez|appeler|composez|composer|num[ée]ro|joindre|"
                        r"contacte[rz]?|ligne|standard|urgence|samu)", re.I)


def _group(digits: str) -> str:
    """A group of a printed number, said as printed: '13' -> 'treize', '05' -> 'zéro cinq',
    '123' -> 'cent vingt-trois'."""
    zeros = len(digits) - len(digits.lstrip("0"))
    return " ".join(["zéro"] * min(zeros, len(digits) - 1) + [cardinal(int(digits))])


def phone_numbers(text: str) -> str:
    """French numbers in pairs; +33 as 'plus trente-trois'; short service numbers like 3422 in pairs."""
    def intl(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(2))
        return f"plus {cardinal(int(m.group(1)))}, {cardinal(int(digits[0]))}, {phone_pairs(digits[1:])}"

    text = _sub(r"\+\s?(33|32|41|352|377|262|590|596|594)\s?(?:\(0\)\s?)?([1-9](?:[\s.-]?\d{2}){4})(?!\d)", intl,
                text)
    # Special-rate numbers are said as printed, in threes: "zéro huit cents, cent vingt-trois, …".
    text = _sub(r"(?<![\d+])0\s?(8\d{2})((?:\s\d{3}){2}|(?:[\s.]\d{2}){3})(?![\d])",
                lambda m: "zéro " + ", ".join([cardinal(int(m.group(1)))]
                                              + [_group(g) for g in re.split(r"[\s.]", m.group(2).strip())]), text)
    text = _sub(r"(?<![\d+])0[1-9](?:[\s.-]?\d{2}){4}(?![\d])",
                lambda m: phone_pairs(re.sub(r"\D", "", m.group(0))), text)
    # European harmonised numbers (116 117, 116 000): two threes, never "cent seize mille".
    text = _sub(r"(?<![\d,.])\b116\s?(\d{3})\b(?![,.]\d)", lambda m: short_number("116" + m.group(1)), text)

    def short(m: re.Match) -> str:
        before = text[max(0, m.start() - 40):m.start()]
        after = text[m.end():m.end() + 30].lower()
        if re.match(r"\s*\)?\s*,?\s*\(?(?:non surtax|gratuit|num[ée]ro vert|service gratuit|prix d'un appel)", after):
            return short_number(m.group(1))
        # "3422 €", "3000 mg" are quantities, whatever the context.
        if re.match(r"\s*(?:€|%|euros?\b|[a-zµ°]{1,4}\b(?<!\ble)(?<!\bau)(?<!\bdu)(?<!\bet)(?<!\bou)(?<!\ben)"
                    r"(?<!\bde)(?<!\bpar)(?<!\bsur)(?<!\bnon)(?<!\best)|/)", after) \
                and not re.match(r"\s*(?:est|a|ne|se|vous|n'|s')\b", after):
            return m.group(0)
        # A number that names something is a service, not a count: "le 3919 écoute", "au 3114", "(3237)",
        # "Info : 3919". A round number (3000) there is still a count.
        named = (re.search(r"(?:\b(?:[lL]e|[aA]u|[dD]u|[cC]e)\s+|\(\s*|:\s*)$", before)
                 or re.match(r"\s?:\s", after)) and not m.group(1).endswith("00")
        if _PHONE_CUE.search(before) or named:
            return short_number(m.group(1))
        return m.group(0)

    return _sub(r"(?<![\d,.])\b(3\d{3}|10\d{2})\b(?![\d,.]\d)", short, text)


# --- 5. dates and times ------------------------------------------------------------------------

def _date(day: int, month: int, year: str | None) -> str | None:
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    words = f"{ordinal(1) if day == 1 else cardinal(day)} {MONTHS[month - 1]}"
    if year:
        y = int(year)
        if len(year) == 2:
            y += 2000 if y < 50 else 1900
        words += f" {cardinal(y)}"
    return words


def dates(text: str) -> str:
    """06/05/2025, 2025-05-06 and 1er janvier are said as dates; years as years."""
    def dmy(m: re.Match) -> str:
        return _date(int(m.group(1)), int(m.group(2)), m.group(3)) or m.group(0)

    text = _sub(r"\b(\d{4})-(\d{2})-(\d{2})\b",
                lambda m: _date(int(m.group(3)), int(m.group(2)), m.group(1)) or m.group(0), text)
    text = _sub(r"(?<![\d/.])(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})(?![\d/])", dmy, text)
    text = _sub(r"(?<![\d/.])(\d{2})/(\d{2})(?![\d/])", lambda m: _date(int(m.group(1)), int(m.group(2)), None)
                or m.group(0), text)
    month_re = "|".join(MONTHS)
    text = _sub(rf"\b1(?:er)?\s+({month_re})\b", r"premier \1", text, re.I)
    return text


def _time(h: str, mins: str | None) -> str | None:
    hour, minute = int(h), int(mins or 0)
    if hour > 24 or minute > 59:
        return None
    words = "minuit" if hour == 0 and not mins else f"{cardinal(hour, True)} heure{'s' if hour >= 2 else ''}"
    if minute:
        words += f" {cardinal(minute, True)}"
    return words


_RATIO_CUE = re.compile(r"(?i)\b(?:ratio|dilu\w*|rapport|proportion|[ée]chelle|m[ée]lange|concentration)\b")
_TIME_CUE = re.compile(r"(?i)(?:\b(?:à|a|vers|dès|de|entre|jusqu'à|avant|après|et|ou)\s*)$")


def _ratio(m: re.Match) -> str:
    """'1:10' is a ratio ('un pour dix') after a dilution or scale word, or when it cannot be a clock time
    ('1:1000'), or when its 1 stands before no time word ('à', 'vers'…); else it is left for the clock rule."""
    a, b = m.group(1), m.group(2)
    before = _clause_before(m)
    clock = len(b) == 2 and int(b) < 60 and int(a) < 24
    if _RATIO_CUE.search(before) or not clock or (a == "1" and not b.startswith("0")
                                                  and not _TIME_CUE.search(before)):
        return f"{cardinal(int(a))} pour {cardinal(int(b))}"
    return m.group(0)


def times(text: str) -> str:
    """14h30, 9h, 12h-12h45, 24h/24 and 7j/7 are said as times and durations."""
    text = _sub(r"\b(\d{1,2})\s?h\s?/\s?(\d{1,2})\b(?!\s?[hH:])",
                lambda m: f"{cardinal(int(m.group(1)), True)} heures sur {cardinal(int(m.group(2)))}", text)
    text = _sub(r"\b(\d)\s?j\s?/\s?(\d)\b",
                lambda m: f"{cardinal(int(m.group(1)))} jours sur {cardinal(int(m.group(2)))}", text)
    t = r"\d{1,2}\s?[hH](?:\s?\d{2})?"

    def span(m: re.Match) -> str:
        before = text[max(0, m.start() - 7):m.start()].lower()
        lead = "" if re.search(r"\b(?:de|entre|des|dès)\s*$", before) else "de "
        return f"{lead}{m.group(1)} à {m.group(2)}"

    text = _sub(rf"(?<![\w])({t})\s?[-–]\s?({t})(?![\w])", span, text)
    # "9h-12h / 14h-17h": two opening spans, one after the other, never "ou".
    text = _sub(rf"(?<=\d)(\s?[hH](?:\s?\d{{2}})?)\s?/\s?(?=de {t})", r"\1 et ", text)
    text = _sub(r"(?<![\d:,.])(\d{1,4}):(\d{1,5})(?![\d:])", _ratio, text)
    text = _sub(r"(?<![\w,])(\d{1,2})\s?[hH]\s?(\d{2})(?![\d])",
                lambda m: _time(m.group(1), m.group(2)) or m.group(0), text)
    text = _sub(r"(?<![\w,])(\d{1,2})\s?[hH](?![\w])", lambda m: _time(m.group(1), None) or m.group(0), text)
    text = _sub(r"(?<![\d:])\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:)", lambda m: _time(m.group(1), m.group(2)), text)
    return text


# --- 6. money, percentages, fractions, comparisons -------------------------------------------

_PER = {"j": "jour", "jr": "jour", "h": "heure", "min": "minute", "mn": "minute", "s": "seconde", "sem": "semaine",
        "an": "an", "mois": "mois", "jour": "jour", "semaine": "semaine", "année": "année", "heure": "heure",
        "minute": "minute", "seconde": "seconde", "nuit": "nuit", "repas": "repas", "prise": "prise",
        "personne": "personne", "patient": "patient", "habitant": "habitant", "consultation": "consultation",
        "séance": "séance", "acte": "acte"}


def _per_word(x: str, units: dict) -> str:
    if x == "kg":
        return "kilo"  # "par kilo", as carers and the units table say
    return _PER.get(x) or units[x][0]


def per_and_times(text: str) -> str:
    """'3 fois/jour' -> '3 fois par jour', '25 €/mois' -> '25 € par mois', '2 x 250 ml' -> '2 fois 250 ml'.
    A slash after a unit or currency and before a unit of time or count is "par", never "ou"."""
    per = "|".join(sorted(map(re.escape, _PER), key=len, reverse=True))
    units = tables.units()
    sym = "|".join(sorted((re.escape(u) for u in units if "/" not in u), key=len, reverse=True))
    # Two units with no number before them: "en mg/kg" -> "en milligrammes par kilogramme".
    text = _sub(rf"(?<![\w/])(?<!\d )({sym})/({sym})(?![\w/])",
                lambda m: f"{units[m.group(1)][1]} par {units[m.group(2)][0]}", text)
    # Chains of units: "10 mg/kg/jour" -> "10 mg par kilo par jour", "2 L/min" -> "2 L par minute".
    tail = rf"(?:{sym}|{per})"

    def chain(m: re.Match) -> str:
        head, rest = m.group(2), m.group(3).split("/")[1:]
        if not m.group(1) and len(rest) == 1:
            return m.group(0)  # "mg/kg" alone: the two-unit rule below
        if m.group(1) and len(rest) == 1 and f"{head}/{rest[0]}" in units:
            return m.group(0)  # "1,26 g/L": one unit of the table
        words = [_per_word(x, units) for x in rest]
        spoken = head if m.group(1) else units[head][1]
        return (m.group(1) or "") + spoken + " par " + " par ".join(words)

    text = _sub(rf"(\d\s?)?(?<![\w/])({sym})((?:/{tail})+)(?![\w/])", chain, text)
    # Only after a quantity ("3 fois", "25 €", "2 séances") or a currency: "jour/nuit" stays "jour ou nuit".
    text = _sub(rf"((?<![\d,.])\d+(?:[,.]\d+)?\s?(?:[{L}]+|[€%$£])|[€$£]|\beuros?)\s?/\s?({per})(?![{L}])",
                lambda m: f"{m.group(1)} par {_PER[m.group(2)]}", text)
    return _sub(r"(?<=\d)\s?[xX×]\s?(?=\d)", " fois ", text)


# What a comparison sign compares: a measure noun before it makes the sign an adjective that agrees with it
# ("une glycémie ≤ 1,26 g/L": "inférieure ou égale à"); (gender, plural).
_MEASURES = {
    "glycémie": "f", "tension": "f", "pression": "f", "température": "f", "valeur": "f", "valeurs": "fp",
    "saturation": "f", "concentration": "f", "fréquence": "f", "clairance": "f", "note": "f", "dose": "f",
    "doses": "fp", "charge": "f", "créatinine": "f", "hémoglobine": "f", "kaliémie": "f", "natrémie": "f",
    "ressources": "fp", "durée": "f", "perte": "f", "vitesse": "f", "taille": "f", "moyenne": "f",
    "imc": "m", "taux": "m", "score": "m", "poids": "m", "âge": "m", "débit": "m", "résultat": "m",
    "résultats": "mp", "seuil": "m", "risque": "m", "cholestérol": "m", "ldl": "m", "dfg": "m", "inr": "m",
    "revenu": "m", "revenus": "mp", "montant": "m", "quotient": "m", "périmètre": "m", "tour": "m", "pouls": "m",
}


def _agree(word: str, kind: str) -> str:
    if "p" in kind:
        return {"égal": "égaux"}.get(word, word + "s") if "f" not in kind else word + "es"
    return word + "e" if "f" in kind else word


def comparisons(text: str) -> str:
    """>100 € -> 'plus de cent euros'; ≥ 18 -> 'supérieur ou égal à dix-huit'; after a measure noun the sign
    agrees with it: 'glycémie ≤ 1,26' -> 'glycémie inférieure ou égale à', 'IMC < 25' -> 'IMC inférieur à'."""
    def sign(m: re.Match) -> str:
        op = re.sub(r"\s", "", m.group(1))
        words = re.findall(rf"[{L}]+", _clause_before(m, 35))[-4:]
        kind = next((_MEASURES[w.lower()] for w in words if w.lower() in _MEASURES), None)
        rel = {"<": "inférieur", "≤": "inférieur", "<=": "inférieur"}.get(op, "supérieur")
        equal = op in ("≤", "≥", "<=", ">=")
        if kind is None:
            if equal:
                return f" {rel} ou égal à "
            return " moins de " if rel == "inférieur" else " plus de "
        return f" {_agree(rel, kind)}{' ou ' + _agree('égal', kind) if equal else ''} à "

    text = _sub(r"(?<![<>=-])(>\s?=|<\s?=|≥|≤|>|<)\s?(?=[-+]?\d)", sign, text)
    text = _sub(r"≥\s?", " supérieur ou égal à ", text)
    text = _sub(r"≤\s?", " inférieur ou égal à ", text)
    text = _sub(r"±\s?(?=\d)", " plus ou moins ", text)
    return text


_CURRENCY = {"€": ("euro", "euros"), "EUR": ("euro", "euros"), "euros": ("euro", "euros"),
             "$": ("dollar", "dollars"), "USD": ("dollar", "dollars"), "£": ("livre", "livres")}
_SCALE = {"k": "mille", "K": "mille", "M": "millions", "Md": "milliards", "Mds": "milliards", "Mrd": "milliards"}


def _amount(int_part: str, cents: str | None, cur: str, scale: str | None = None) -> str:
    one, many = _CURRENCY[cur]
    fem = cur == "£"
    if scale:
        whole = decimal(int_part, cents) if cents else _num(int_part)
        unit = _SCALE[scale]
        if unit != "mille" and not _is_plural(int_part, cents):
            unit = unit[:-1]
        # "deux mille euros", but "deux millions d'euros": only the nouns million and milliard take "de".
        return f"{whole} {unit} {'' if unit == 'mille' else 'de '}{many}".replace("de e", "d'e")
    n = digits_to_int(int_part)
    c = int((cents or "0").ljust(2, "0")[:2])
    if n == 0 and c:
        return f"{cardinal(c)} centime{'s' if c >= 2 else ''}"
    words = _num(int_part, fem)
    noun = many if n >= 2 else one
    if re.search(r"(?:millions?|milliards?)$", words):
        noun = "d'" + many if many[0] in "aeiou" else "de " + many
    out = f"{words} {noun}"
    if c:
        out += f" {cardinal(c)}"
    return out


def money(text: str) -> str:
    """25 €, 100€, 7,50 €, 2 M€ are said with the currency after the amount, cents after the euros."""
    cur = r"(€|EUR\b|\$|USD\b|£)"
    text = _sub(rf"(?<![\d,.])({INT})(?:,(\d+))?\s?(k|K|M|Mds?|Mrd)\s?€",
                lambda m: _amount(m.group(1), m.group(2), "€", m.group(3)), text)
    text = _sub(rf"(?<![\d,.])({INT})(?:[,.](\d{{1,2}}))?\s?{cur}",
                lambda m: _amount(m.group(1), m.group(2), m.group(3)), text)
    text = _sub(rf"(€|\$|£)\s?({INT})(?:[,.](\d{{1,2}}))?(?![\d])",
                lambda m: _amount(m.group(2), m.group(3), m.group(1)), text)
    return text


_PRESSURE_CUE = re.compile(r"(?i)\b(?:tension|pression|TA|PA|art[ée]rielle|systolique|diastolique|mmHg|"
                           r"hypertension|hypotension)\b")
_SCORE_CUE = re.compile(r"(?i)\b(?:note|not[ée]e?s?|score|[ée]chelle|douleur|EVA|[ée]valu\w*|satisfaction|niveau)\b")
_DATE_CUE = re.compile(r"(?i)(?:\b(?:le|du|au|jusqu'au|dès le|depuis le|lundi|mardi|mercredi|jeudi|vendredi|samedi|"
                       r"dimanche)\s*)$")


def _season(a: str, b: str, x: int, y: int) -> str | None:
    """'2024/2025' or '2024/25': two years in a row."""
    if len(a) == 4 and len(b) == 4 and 1900 <= x < 2100 and y == x + 1:
        return f"{cardinal(x)}, {cardinal(y)}"
    if len(a) == 4 and len(b) == 2 and 1900 <= x < 2100 and y == (x + 1) % 100:  # 2024/25
        return f"{cardinal(x)}, {cardinal(x + 1)}"
    return None


def _number_pair(a: str, b: str, before: str, after: str) -> str | None:
    """A slash between two numbers, read from what surrounds it: a season ('2024/2025'), a blood pressure
    ('tension 14/9': 'quatorze neuf'), a date ('le 3/03'), a score ('douleur 7/10': 'sept sur dix').
    None: a plain fraction ('1/3 des patients')."""
    x, y = int(a), int(b)
    if (said := _season(a, b, x, y)) is not None:
        return said
    if _PRESSURE_CUE.search(before) or re.match(r"\s?(?:cm|mm)\s?Hg\b", after):
        if 5 <= x <= 30 and 3 <= y <= 20:
            return f"{cardinal(x)} {cardinal(y)}"
        return f"{cardinal(x)} sur {cardinal(y)}"
    if 1 <= x <= 31 and 1 <= y <= 12 and (_DATE_CUE.search(before) or (b.startswith("0") and len(b) == 2)):
        return _date(x, y, None)
    if re.match(r"\s+(?:de|des|du|d')\b", after):
        return None  # "2/3 des votes": a share
    if _SCORE_CUE.search(before) or re.match(r"\s*(?:points?|pts?)\b", after):
        return f"{cardinal(x)} sur {cardinal(y)}"
    return None


_DENOMINATORS = {2: ("demi", "demis"), 3: ("tiers", "tiers"), 4: ("quart", "quarts")}


def percentages_and_fractions(text: str) -> str:
    """95 %, 2,5 % and 1/3 are said as 'quatre-vingt-quinze pour cent', 'un tiers'."""
    def pct(m: re.Match) -> str:
        n = decimal(m.group(2), m.group(3)) if m.group(3) else _num(m.group(2))
        sign = {"-": "moins ", "+": "plus ", None: ""}[m.group(1)]
        return f"{sign}{n} pour {'mille' if m.group(4) == '‰' else 'cent'}"

    text = _sub(rf"(?<![\d,.])({INT}(?:,\d+)?)\s?[-–]\s?({INT}(?:,\d+)?)\s?(?=%|‰)",
                lambda m: f"{m.group(1)} {'et' if _clause_before(m).rstrip().endswith('entre') else 'à'} {m.group(2)} ",
                text)
    # A sign only where it cannot be a range's dash ("10-20 %"): "-20 %" is "moins vingt pour cent".
    text = _sub(rf"(?:(?<![\w\d,.])([-+])\s?)?(?<![\d,.])({INT})(?:[,.](\d+))?\s?(%|‰)", pct, text)

    def frac(m: re.Match) -> str:
        a, b = int(m.group(1)), int(m.group(2))
        before = _clause_before(m, 50, ".;,!?()\n")
        after = m.string[m.end():m.end() + 12]
        said = _number_pair(m.group(1), m.group(2), before, after)
        if said:
            return said
        if b == 0:
            return f"{cardinal(a)} sur zéro"
        if b in _DENOMINATORS:
            one, many = _DENOMINATORS[b]
            return f"{cardinal(a)} {one if a < 2 else many}"
        if 5 <= b <= 10 or b in (100, 1000):
            name = ordinal(b)
            return f"{cardinal(a)} {name}{'s' if a >= 2 else ''}"
        return f"{cardinal(a)} sur {cardinal(b)}"

    # A score out of a number: "4,5/5" -> "quatre virgule cinq sur cinq".
    text = _sub(r"(?<![\d/.,])(\d{1,3}),(\d{1,2})\s?/\s?(\d{1,3})(?![\d/])",
                lambda m: f"{decimal(m.group(1), m.group(2))} sur {cardinal(int(m.group(3)))}", text)
    return _sub(r"(?<![\d/.,])(\d{1,4})\s?/\s?(\d{1,4})(?![\d/])", frac, text)


# --- 7. units, ordinals, ranges, numbers ------------------------------------------------------

def _unit_re():
    keys = sorted(tables.units(), key=len, reverse=True)
    return re.compile(rf"(?<![\w,.])(-?{INT})(?:[,.](\d+))?\s?({'|'.join(map(re.escape, keys))})(?![\w/²³])")


_UNITS_RE = None


def units(text: str) -> str:
    """5 mg -> 'cinq milligrammes'; 1,5 L -> 'un virgule cinq litre' (plural from 2, as in French)."""
    global _UNITS_RE
    if _UNITS_RE is None:
        _UNITS_RE = _unit_re()

    def unit(m: re.Match) -> str:
        int_part, frac, sym = m.group(1), m.group(2), m.group(3)
        one, many, gender = tables.units()[sym]
        neg = int_part.startswith("-")
        int_part = int_part.lstrip("-")
        fem = gender == "f"
        n = decimal(int_part, frac) if frac else _num(int_part, fem)
        return f"{'moins ' if neg else ''}{n} {many if _is_plural(int_part, frac) else one}"

    text = _UNITS_RE.sub(unit, text)
    return _sub(r"\bmmHg\b", "millimètres de mercure", text)  # "140/90 mmHg": after the words of a pair


_NUMBER_WORDS = ("un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|"
                 "vingt|trente|quarante|cinquante|soixante|cent|mille")
_ROMAN_ORD_NEXT = "siècles?|millénaires?|arrondissement|République|régiment|congrès|édition|dynastie|plan"


def ordinals(text: str) -> str:
    """1er, 1re, 2e, 3ème, XXIe and 'type II' become ordinal or cardinal words."""
    text = _sub(r"\b(\d+)\s?(?:ers|ERS)\b", lambda m: ordinal(int(m.group(1))) + "s", text)
    text = _sub(r"\b(\d+)\s?(?:res|ères|eres|ières)\b", lambda m: ordinal(int(m.group(1)), True) + "s", text)
    text = _sub(r"\b(\d+)\s?(?:es|èmes|emes|ièmes|iemes)\b", lambda m: ordinal(int(m.group(1))) + "s", text)
    text = _sub(r"\b(\d+)\s?(?:er|ER)\b", lambda m: ordinal(int(m.group(1))), text)
    text = _sub(r"\b(\d+)\s?(?:re|ère|ere|ière|ieme)\b", lambda m: ordinal(int(m.group(1)), True), text)
    text = _sub(r"\b(\d+)\s?(?:e|è|ème|eme|ième|ᵉ)\b", lambda m: ordinal(int(m.group(1))), text)
    text = _sub(r"\b2\s?(?:nd)\b", "second", text)
    text = _sub(r"\b2\s?(?:nde|de)\b", "seconde", text)
    text = _sub(rf"\b({ROMAN_RE})(?:er)\b", lambda m: ordinal(roman_to_int(m.group(1))), text)
    text = _sub(rf"\b({ROMAN_RE})(?:re|ère)\b", lambda m: ordinal(roman_to_int(m.group(1)), True), text)
    text = _sub(rf"\b({ROMAN_RE})(?:e|ème|è)\b(?=\s+(?:{_ROMAN_ORD_NEXT}))|\b([IVXLCDM]{{2,}})(?:e|ème|è)\b",
                lambda m: ordinal(roman_to_int(m.group(1) or m.group(2))), text)
    context = (r"type|siècle|chapitre|titre|tome|phase|stade|grade|classe|niveau|acte|partie|annexe|article|"
               r"volume|livre|leçon|Louis|Henri|Charles|François|Napoléon|Jean-Paul|Benoît|Pie|Grégoire|Élisabeth|"
               r"Elizabeth|Paul|Jean|Philippe")
    # "article L mille cent onze" (a legal reference, said by `legal_references`) keeps its letter.
    text = _sub(rf"\b((?i:{context}))\s+({ROMAN_RE})\b(?![\w'])(?!\s+(?:{_NUMBER_WORDS})\b)",
                lambda m: f"{m.group(1)} {cardinal(roman_to_int(m.group(2)))}", text)
    return text


def ranges(text: str) -> str:
    """5-10 and 2020-2022 become '5 à 10'; Covid-19 becomes 'Covid 19'; J-7 is 'J moins 7'."""
    text = _sub(r"\b([JH])\s?([-+])\s?(?=\d)", lambda m: f"{m.group(1)} {'moins' if m.group(2) == '-' else 'plus'} ",
                text)
    text = _sub(r"(?<![\d,.])(\d+)\s?[-–]\s?(\d+)(?![\d,.]\d)", r"\1 à \2", text)
    text = _sub(rf"(?<=[{L}])-(?=\d)", " ", text)
    return text


def numbers(text: str) -> str:
    """Remaining numbers: decimals with 'virgule', grouped thousands, and 'une' before feminine nouns."""
    text = _sub(rf"(?<=[{L}])(?=\d)|(?<=\d)(?=[{L}])", " ", text)
    text = _sub(r"(?<![\w\d])-\s?(?=\d)", "moins ", text)
    fem = tables.feminine_nouns()

    def next_is_feminine(end: int) -> bool:
        m = re.match(rf"\s+([{L}'-]+)", text[end:])
        return bool(m and m.group(1).lower() in fem)

    def dec(m: re.Match) -> str:
        return decimal(m.group(1), m.group(2))

    text = _sub(rf"(?<![\d,.])({INT}),(\d+)(?![\d])", dec, text)
    text = _sub(r"(?<![\d,.])(\d+)\.(\d{1,2})(?![\d.])", dec, text)
    text = re.sub(rf"(?<![\d])({GROUPED}|\d+)", lambda m: _num(m.group(1), next_is_feminine(m.end())), text)
    return elide(text)


def elide(text: str) -> str:
    """'de un euro' -> 'd'un euro', 'que une fois' -> 'qu'une fois' (numbers said as words elide like words)."""
    text = _sub(r"\b([dD])e (une?)\b", r"\1'\2", text)
    return _sub(r"\b([qQ]u)e (une?)\b", r"\1'\2", text)


# --- 8. acronyms and words -------------------------------------------------------------------

# Short words that are also acronyms (CE, PA…) are plain words inside an all-caps heading.
_HEADING_WORDS = {"NOS", "VOS", "CE", "DE", "LA", "LE", "LES", "DES", "DU", "UN", "UNE", "ET", "OU", "EN", "À", "AU",
                  "AUX", "SUR", "POUR", "PAR", "DANS", "AVEC", "SE", "SA", "SON", "SES", "MON", "MA", "MES", "QUI",
                  "QUE", "EST", "NE", "PAS", "IL", "ELLE", "ON", "NOUS", "VOUS", "Y", "L", "D", "C", "QU", "PLUS",
                  "TOUS", "ME"}
_CAPS_WORD = rf"[{UP}][{UP}&]*[{UP}](?:-[{UP}]+)*"


def make_lexicon_step(lexicon: dict[str, str]):
    """A step that says every acronym and listed word the way the lexicon (default + guide) says."""
    # A heading's number is said by then ("NOS vingt ANS"): its words still belong to the run.
    caps_run = re.compile(rf"(?<![{L}])(?:{_CAPS_WORD}|[{UP}])(?:[\s'’,:-]+(?:{_CAPS_WORD}|[{UP}]|(?:{_NUMBER_WORDS})"
                          rf"(?:[\s-]+(?:{_NUMBER_WORDS}|et))*(?![{L}])))+(?![{L}])")
    keys = sorted(lexicon, key=len, reverse=True)
    lex_re = re.compile(rf"(?<![\w.-])({'|'.join(map(re.escape, keys))})(?![\w-])") if keys else None
    caps_re = re.compile(rf"(?<![\w.-])({_CAPS_WORD})(?![\w-])")

    def lower_run(m: re.Match) -> str:
        words = re.findall(_CAPS_WORD, m.group(0))
        if not any(len(w) >= 4 and w not in lexicon and sayable(w) for w in words):
            return m.group(0)
        def word(w: re.Match) -> str:
            after_number = re.search(rf"(?:{_NUMBER_WORDS})\s+$", w.string[:w.start()])  # "vingt ANS"
            keep = w.group(0) in lexicon and w.group(0) not in _HEADING_WORDS and not after_number
            return w.group(0) if keep else w.group(0).lower()

        out = re.sub(_CAPS_WORD + "|[" + UP + "]", word, m.group(0))
        before = m.string[:m.start()].rstrip()
        if not before or before[-1] in ".!?:":
            out = out[:1].upper() + out[1:]
        return out

    def step(text: str) -> str:
        text = caps_run.sub(lower_run, text)
        if lex_re:
            text = lex_re.sub(lambda m: say_acronym(m.group(1), lexicon), text)
        return caps_re.sub(lambda m: say_acronym(m.group(1), lexicon) if "-" not in m.group(1)
                           else "-".join(say_acronym(p, lexicon) for p in m.group(1).split("-")), text)

    step.__name__ = "lexicon"
    return step


# --- 9. symbols and punctuation ------------------------------------------------------------------

FORBIDDEN = set("€%/@#*•<>≥≤°«»_|")


def symbols(text: str) -> str:
    """Symbols left over become words (& -> 'et') or pauses; quotes disappear."""
    text = _sub(r"\bet\s?/\s?ou\b", "et ou", text)
    for sym, spoken in tables.symbols().items():
        if sym in text:
            text = text.replace(sym, spoken)
    return text


def punctuation(text: str) -> str:
    """Parentheses become commas (a pause); spaces and stray punctuation are tidied."""
    text = _sub(r"\s*\(\s*", ", ", text)
    text = _sub(r"\s*\)\s*(?=[.,;:!?])", "", text)
    text = _sub(r"\s*\)\s*", ", ", text)
    text = text.replace("\n", " ")
    text = _sub(r"\s+", " ", text)
    text = _sub(r"\s+([,.;)])", r"\1", text)
    text = _sub(r",(?:\s*,)+", ",", text)
    text = _sub(rf"(?<![{UP}]\.[{UP}])([.!?:;]),", r"\1", text)  # "B.P.C.O., insuffisance" keeps its pause
    text = _sub(r"([?!…])\s*\.", r"\1", text)
    text = _sub(rf"\b((?i:qu|[cdjlmnst]))'\s+(?=[{L}])", r"\1'", text)  # "l' Espace" is "l'Espace", not the letter L
    text = _sub(r",\s*([.!?:;])", r"\1", text)
    text = _sub(r"(?<!\.)\.\.(?!\.)", ".", text)
    text = _sub(r"\s+([?!:;])", r" \1", text)
    text = _sub(r"^[\s,;.:]+", "", text)
    return _sub(r"[\s,;]+$", "", one_colon(text))


def one_colon(text: str) -> str:
    """A sentence keeps its first colon; later ones become commas ('partie cinq : la régulation : le Sas')."""
    def sentence(m: re.Match) -> str:
        first = m.group(0).find(" :")
        if first < 0:
            return m.group(0)
        return m.group(0)[:first + 2] + m.group(0)[first + 2:].replace(" :", ",")

    return _sub(r"[^.!?]+[.!?]*", sentence, text)


def final_guard(text: str) -> str:
    """Whatever slipped through: no digit and no symbol is ever left for the engine to read out."""
    out = []
    for ch in text:
        if ch in FORBIDDEN:
            out.append(" ")
        elif ch.isdigit() or ch.isnumeric():
            value = unicodedata.numeric(ch, None)
            out.append(f" {cardinal(int(value))} " if value is not None and float(value).is_integer() else " ")
        else:
            out.append(ch)
    return _sub(r"\s+", " ", "".join(out)).strip()


STEPS = [
    unicode_cleanup,
    strip_markdown,
    strip_decorations,
    urls_and_emails,
    asides,
    abbreviations,
    phone_numbers,
    dates,
    times,
    per_and_times,
    comparisons,
    money,
    percentages_and_fractions,
    units,
    ordinals,
    ranges,
    numbers,
    # lexicon step is inserted here by the pipeline
    symbols,
    punctuation,
    final_guard,
]
LEXICON_AT = STEPS.index(symbols)
