"""Speech engines are plug-ins, found through the `audioguide.engines` entry points."""

from __future__ import annotations

import difflib
from importlib.metadata import entry_points

from audioguide.exceptions import ConfigError
from audioguide.tts.base import Engine

__all__ = ["Engine", "engine_classes", "get_engine"]


def engine_classes() -> dict[str, type[Engine]]:
    found = {}
    for ep in entry_points(group="audioguide.engines"):
        found[ep.name] = ep.load()
    return dict(sorted(found.items()))


def get_engine(name: str, settings) -> Engine:
    classes = engine_classes()
    if name not in classes:
        close = difflib.get_close_matches(name, list(classes), n=1)
        raise ConfigError(f"Unknown engine {name!r}.",
                          cause=f"did you mean {close[0]!r}?" if close else None,
                          fix=f"choose one of: {', '.join(classes)} (see `audioguide engines`)")
    return classes[name](settings)
