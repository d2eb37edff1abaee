"""Speech engines are plug-ins, found through the `audioguide.engines` entry points."""

from __future__ import annotations

import difflib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from audioguide.exceptions import ConfigError
from audioguide.i18n import _
from audioguide.tts.base import Engine, Option

if TYPE_CHECKING:
    from audioguide.config import BuildSettings

__all__ = ["Engine", "Option", "engine_classes", "get_engine", "option_problems", "settings_problems",
           "validate_settings"]


def engine_classes() -> dict[str, type[Engine]]:
    found = {}
    for ep in entry_points(group="audioguide.engines"):
        found[ep.name] = ep.load()
    return dict(sorted(found.items()))


def get_engine(name: str, settings: BuildSettings) -> Engine:
    classes = engine_classes()
    if name not in classes:
        close = difflib.get_close_matches(name, list(classes), n=1)
        raise ConfigError(_("Unknown engine {name!r}.").format(name=name),
                          cause=_("did you mean {name!r}?").format(name=close[0]) if close else None,
                          fix=_("choose one of: {names} (see `audioguide engines`)").format(names=", ".join(classes)))
    return classes[name](settings)


def option_problems(engines: list[str], options: dict[str, str]) -> list[tuple[str, str, str]]:
    """(field, cause, fix) in French for each `-o KEY=VALUE` that none of `engines` reads, or reads with another
    type or range. An engine name that does not exist is left to get_engine's message."""
    classes = engine_classes()
    table: dict[str, Option] = {}
    for name in engines:
        if name in classes:
            table = {**classes[name].options, **table}
    names = _(" and ").join(n for n in engines if n in classes) or _("this engine")
    known = ", ".join(table) if table else _("none")
    problems = []
    for key, value in options.items():
        field = f"-o {key}={value}"
        if key not in table:
            close = difflib.get_close_matches(key, list(table), n=1)
            problems.append((field,
                             _("the engine {names} does not know the setting “{key}”").format(names=names, key=key),
                             _("did you mean “{close}”? Write -o {example}").format(
                                 close=close[0], example=table[close[0]].example) if close
                             else _("this engine's settings: {known}; see `audioguide engines`").format(known=known)))
        elif why := table[key].problem(value):
            problems.append((field, f"{why}", _("{help}; for example -o {example}").format(
                help=_(table[key].help), example=table[key].example)))
    return problems


def settings_problems(settings: BuildSettings) -> list[tuple[str, str, str]]:
    """(field, cause, fix) in French for every bad setting: the settings' own and the engines' (a name that does
    not exist, an option the engine does not read). Here rather than in config, which sits below the engines."""
    known = list(engine_classes())
    problems = settings.problems()
    for option, name in (("--engine", settings.engine), ("--fallback", settings.fallback)):
        if name is not None and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            problems.append((f"{option} {name}", _("this voice engine does not exist"),
                             (_("did you mean “{close}”? ").format(close=close[0]) if close else "")
                             + _("engines: {known} (see `audioguide engines`)").format(known=", ".join(known))))
    engines = [n for n in (settings.engine, settings.fallback) if n is not None]
    return problems + option_problems(engines, settings.engine_options)


def validate_settings(settings: BuildSettings) -> None:
    """Refuse bad settings before any work, all problems at once (settings_problems)."""
    settings.validate(settings_problems(settings))
