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


def N2_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural pair for extraction (`pybabel extract -k N2_:1,2`)."""
    return singular, plural


def localise_click() -> None:
    """click's own texts (Usage:, Options, its value errors) through this catalogue: each click module bound
    gettext's functions at import, which follow LANG only, never --lang."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types):
        if getattr(module, "_", None) is gettext.gettext:
            module._ = _  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = ngettext  # type: ignore[attr-defined]


# click's msgids the volunteer meets (help screens, refused values), marked so the catalogue test covers them.
CLICK_TEXTS = (N_("Usage:"), N_("Options"), N_("Commands"), N_("Show this message and exit."),
               N_("Show the version and exit."), N_("Aborted!"), N_("Error: {message}"),
               N_("Invalid value for {param_hint}: {message}"), N_("Invalid value: {message}"),
               N_("Missing argument"), N_("Missing option"), N_("Missing command."),
               N_("{value!r} is not a valid {number_type}."), N_("{value} is not in the range {range}."),
               N_("{name} {filename!r} does not exist."), N_("{name} {filename!r} is a file."),
               N_("{name} {filename!r} is a directory."), N_("file"), N_("directory"), N_("path"),
               N_("default: {default}"), N_("required"), N_("env var: {var}"), N_("Choose from:\n\t{choices}"),
               N_("Option {name!r} does not take a value."))
CLICK_PLURALS = (N2_("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
                 N2_("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."),
                 N2_("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"))

set_language()
