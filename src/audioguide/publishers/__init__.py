"""Publishers turn a finished build into files people use. Found through `audioguide.publishers` entry points."""

from __future__ import annotations

from importlib.metadata import entry_points


class Publisher:
    """A publisher writes its files from the build result (manifest data + audio already in place)."""

    name = ""

    def publish(self, result) -> list:  # pragma: no cover - interface
        raise NotImplementedError


def publisher_classes() -> dict[str, type[Publisher]]:
    found = {ep.name: ep.load() for ep in entry_points(group="audioguide.publishers")}
    order = ["transcripts", "podcast", "phone", "kiosk"]
    return dict(sorted(found.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0])))
