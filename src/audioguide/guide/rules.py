"""What a guide may hold: its keys and their types, ids, lengths, characters and block kinds.

The checks (checks.py), the schema (schema.py) and the importers read these same tables.
"""

from __future__ import annotations

import re

from audioguide.guide.model import CALLOUTS
from audioguide.i18n import N_

ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
MAX_PAGE_CHARS = 20_000
# The sound files a page may be recorded in (`recording:`, recordings/): what the build decodes with ffmpeg.
RECORDING_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".webm")
# Longest text per field. A title is said before every page and printed in very large type on the cover;
# podcast apps cut summaries at 4,000 characters. Other one-line fields default to MAX_TITLE_CHARS.
MAX_TITLE_CHARS = 200
TEXT_LIMITS = {"source": 1_000, "rights": 1_000, "base_url": 2_000, "link": 2_000, "url": 2_000,
               "description": 4_000, "narration": MAX_PAGE_CHARS}
# Never useful in a guide and fatal downstream: XML (feed, VoiceXML) refuses C0/C1 controls and noncharacters,
# the cover's text layout fails on line/paragraph separators, UTF-8 cannot encode lone surrogates.
BAD_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufdd0-\ufdef"
                        + "".join(rf"\U{p:04x}fffe\U{p:04x}ffff" for p in range(17)) + "]")
# A number is read in words ("neuf cent quatre-vingt-dix-neuf novemnonagintilliards…"): past ~600 digits the
# number speller gives up (and Python refuses to convert 4,300), and nobody can follow 100.
MAX_NUMBER_DIGITS = 100
LONG_NUMBER = re.compile(rf"\d(?:[ .\u00a0\u202f]?\d){{{MAX_NUMBER_DIGITS},}}")
# ID3 CTOC frames store their number of entries in one byte: a table of contents lists at most 255 items
# (pages of a chapter; chapters of a part; the intro and parts of the whole-guide file).
MAX_TOC_ENTRIES = 255
# The EPUB and DAISY books are ZIP files, whose dates run from 1980 (earlier ones are written as 1980) to 2107.
MAX_DATE_YEAR = 2107
# A link block's address: a web address (the scheme may be left out), an e-mail or a phone number.
LINK_ADDRESS = re.compile(r"^(?:(?:https?://)?[\w.-]+\.\w{2,}|mailto:[^@\s<>\"']+@[\w.-]+\.\w{2,}"
                          r"|tel:\+?\d[\d.()-]{2,}$)")

# Fields that may hold several lines; every other text is one line (a title, a name, an address).
MULTILINE_FIELDS = {"description", "narration", "p", "list", *CALLOUTS}
# Words people type for a block kind, in French or English: used for "did you mean …?".
BLOCK_ALIASES = {"paragraph": "p", "paragraphe": "p", "paragraf": "p", "para": "p", "text": "p", "texte": "p",
                 "liste": "list", "items": "list", "bullets": "list", "puces": "list", "titre": "heading",
                 "title": "heading", "intertitre": "heading", "lien": "link", "url": "link",
                 "warning": "attention", "avertissement": "attention", "note": "a-noter", "tip": "bon-a-savoir",
                 "example": "exemple"}


# Each kind is also its name in "wrong type: expected …" (translated where it is said).
TEXT, TEXT_LIST, MAP, LIST, DATE, ANY = (N_("text"), N_("list of texts"), N_("mapping"), N_("list"), N_("date"),
                                         N_("any"))

GUIDE_KEYS = {
    # Only the title must be asked; the rest has a default or is derived (README, "Every key").
    "id": (TEXT, False), "title": (TEXT, True), "subtitle": (TEXT, False), "publisher": (TEXT, False),
    "author": (TEXT, False), "language": (TEXT, False), "description": (TEXT, False), "source": (TEXT, False),
    "rights": (TEXT, False), "version": (TEXT, False), "date": (DATE, False), "base_url": (TEXT, False),
    "email": (TEXT, False), "link": (TEXT, False), "feed_guid": (TEXT, False),
    "intro": (MAP, False), "parts": (LIST, False), "chapters": (LIST, False), "lexicon": (MAP, False),
    "levels": (MAP, False), "pace": (TEXT, False),
}
LEVEL_KEYS = {"part": (TEXT, False), "chapter": (TEXT, False), "page": (TEXT, False)}
# menu_label: how a phone menu names the item after "Pour …" ("la télésanté"); defaults to the title.
PART_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "menu_label": (TEXT, False), "chapters": (LIST, True)}
CHAPTER_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "menu_label": (TEXT, False), "description": (TEXT, False),
                "pages": (LIST, True)}
# `blocks` is ANY here because _blocks checks its type with a more telling message: once is enough.
PAGE_KEYS = {"id": (TEXT, True), "title": (TEXT, True), "blocks": (ANY, False), "narration": (TEXT, False),
             "recording": (TEXT, False)}
LINK_KEYS = {"url": (TEXT, True), "label": (TEXT, True)}

