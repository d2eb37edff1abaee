"""The guide stage: from a guide file to a checked `Guide`, the model every later stage reads.

    load.py     find the guide file of a folder, read it by its format, check it, date it
    yamlsrc.py  read YAML, remembering the line of every key and item   (hints.py: its errors retold)
    markdown.py read Markdown into the same tree                         (convert.py: YAML <-> Markdown)
    parse.py    parse_guide: the tree's STEPS, each checking one part, into the model
    checks.py   the field checks, each reporting a Problem and going on
    rules.py    what a guide may hold: keys, types, ids, lengths, block kinds (schema.py: as JSON Schema)
    model.py    Guide > Part > Chapter > Page > Block
    levels.py   what the guide calls its levels, and how French puts them in a sentence

The names below are the stage's public face; other stages import them from `audioguide.guide`.
"""

from audioguide.guide.levels import ARTICLES, NOUN_GENDER, Level, Levels, after
from audioguide.guide.load import (
    GUIDE_FILES,
    MARKDOWN_SUFFIXES,
    file_date,
    guide_file,
    load_guide,
    load_source,
)
from audioguide.guide.model import (
    BLOCK_KINDS,
    CALLOUTS,
    Block,
    Chapter,
    Guide,
    Page,
    Part,
    default_description,
)
from audioguide.guide.parse import parse_guide
from audioguide.guide.rules import (
    BAD_CHARS,
    GUIDE_KEYS,
    ID_RE,
    LINK_ADDRESS,
    LONG_NUMBER,
    MAX_DATE_YEAR,
    MAX_NUMBER_DIGITS,
    MAX_PAGE_CHARS,
    MAX_TITLE_CHARS,
    MAX_TOC_ENTRIES,
    TEXT_LIMITS,
)
from audioguide.web import web_address

__all__ = [
    "ARTICLES", "BAD_CHARS", "BLOCK_KINDS", "CALLOUTS", "GUIDE_FILES", "GUIDE_KEYS", "ID_RE", "LINK_ADDRESS",
    "LONG_NUMBER", "MARKDOWN_SUFFIXES", "MAX_DATE_YEAR", "MAX_NUMBER_DIGITS", "MAX_PAGE_CHARS", "MAX_TITLE_CHARS",
    "MAX_TOC_ENTRIES", "NOUN_GENDER", "TEXT_LIMITS", "Block", "Chapter", "Guide", "Level", "Levels", "Page", "Part",
    "after", "default_description", "file_date", "guide_file", "load_guide", "load_source", "parse_guide",
    "web_address",
]
