"""The operator's language: French by default, English on request (`--lang en`, or LANGUAGE/LC_ALL/LC_MESSAGES/LANG
starting with `en`).

msgids are English, gettext's habit: the extraction tools, click's own texts and the tests' English literals all
use them, and the French catalogue (locale/fr/LC_MESSAGES/audioguide.po, compiled to the committed .mo) must cover
every one (tests/test_i18n.py). The runtime needs only the stdlib's gettext."""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("fr", "en")
_current: gettext.NullTranslations = gettext.NullTranslations()
language = "fr"


def from_environment(env: os._Environ[str] | dict[str, str] = os.environ) -> str:
    """`en` when the first locale variable set (in gettext's order) asks for English, else French."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "en" if value.split(":")[0].lower().startswith("en") else "fr"
    return "fr"


def set_language(lang: str | None = None) -> str:
    """Choose the language once, at the start of a command: `lang` (from --lang), else the environment's."""
    global _current, language
    language = lang if lang in LANGUAGES else from_environment()
    _current = (gettext.NullTranslations() if language == "en"
                else gettext.translation("audioguide", LOCALE_DIR, languages=[language], fallback=True))
    return language


def _(message: str) -> str:
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for extraction; it is translated where it is shown (help texts, made at import time)."""
    return message


set_language()
