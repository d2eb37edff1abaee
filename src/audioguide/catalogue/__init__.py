"""A catalogue: many guides built in one run, each into its own folder, with an index of them all.

A catalogue is a folder of guide folders, or a `catalogue.yaml` that lists guides and the settings they share.
Each guide is built exactly as `audioguide build` builds it (same Builder, same journal, same atomic writes);
with a Dask scheduler, the clips are synthesised on the cluster's workers and come back as bytes.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from audioguide.config import PACES, BuildSettings
from audioguide.exceptions import AudioguideError, ConfigError
from audioguide.i18n import _
from audioguide.tts import validate_settings

log = logging.getLogger(__name__)
CATALOGUE_FILE = "catalogue.yaml"
SHARED = {"engine": str, "voice": str, "pace": str, "rate": int, "pitch": int, "base_url": str}
"""Settings a catalogue.yaml may give once for all its guides."""


@dataclass
class Catalogue:
    source: Path
    title: str
    guides: list[Path]
    shared: dict = field(default_factory=dict)


@dataclass
class GuideOutcome:
    source: Path
    id: str | None = None
    out_dir: Path | None = None
    manifest: dict | None = None
    error: str | None = None
    synthesized: int = 0
    encoded: int = 0


@dataclass
class CatalogueResult:
    catalogue: Catalogue
    out_dir: Path
    outcomes: list[GuideOutcome]

    @property
    def failed(self) -> list[GuideOutcome]:
        return [o for o in self.outcomes if o.error]


def load_catalogue(path: Path) -> Catalogue:
    """A folder of guide folders (each holding guide.yaml or guide.md), or a catalogue.yaml."""
    from audioguide.guide.load import GUIDE_FILES

    path = Path(path)
    if path.is_dir() and (path / CATALOGUE_FILE).exists():
        path = path / CATALOGUE_FILE
    if path.is_file():
        return _load_yaml(path)
    if not path.is_dir():
        raise ConfigError(f"Catalogue {path}: not found.",
                          fix="give a folder of guide folders, or a catalogue.yaml file")
    guides = sorted(p for p in path.iterdir() if p.is_dir() and any((p / f).exists() for f in GUIDE_FILES))
    if not guides:
        raise ConfigError(f"Catalogue {path}: no guide in it.",
                          cause=f"none of its folders holds {' or '.join(GUIDE_FILES)}",
                          fix=f"put one folder per guide in it, or write a {CATALOGUE_FILE} that lists them")
    return Catalogue(path, path.resolve().name, guides)


def _load_yaml(file: Path) -> Catalogue:
    data = _read_yaml(file)
    problems, shared, guides = _fields(data)
    if problems:
        raise ConfigError(f"{file}: " + "; ".join(problems) + ".",
                          fix="correct the field; a catalogue.yaml holds `title:`, `guides:` (a list of folders) "
                              f"and shared settings ({', '.join(SHARED)})")
    return Catalogue(file, str(data.get("title") or file.parent.resolve().name),
                     [(file.parent / g.strip()) for g in guides], shared)


def _read_yaml(file: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read ({exc}).", fix="check the file") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise ConfigError(f"{where}: this is not valid YAML ({getattr(exc, 'problem', exc)}).",
                          fix="check the indentation and the colons near that line") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected `guides:` and settings, found {type(data).__name__}.",
                          fix="see the catalogue example in the README")
    return data


def _fields(data: dict[str, Any]) -> tuple[list[str], dict[str, Any], list[str]]:
    """(problems, shared settings, guide folders) of a catalogue.yaml's fields."""
    problems = []
    unknown = sorted(set(data) - set(SHARED) - {"title", "guides"})
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)} (known: title, guides, {', '.join(SHARED)})")
    shared: dict[str, Any] = {}
    for key, kind in SHARED.items():
        if data.get(key) is not None:
            if not isinstance(data[key], kind) or isinstance(data[key], bool):
                problems.append(f"field `{key}`: {data[key]!r} is not a {'number' if kind is int else 'text'}")
            else:
                shared[key] = data[key]
    if "pace" in shared and shared["pace"] not in PACES:
        problems.append(f"field `pace`: {shared['pace']!r} is not one of {', '.join(PACES)}")
    guides = data.get("guides")
    if not isinstance(guides, list) or not guides or not all(isinstance(g, str) and g.strip() for g in guides):
        problems.append("field `guides`: a list of guide folders (relative to this file) is needed")
        guides = []
    return problems, shared, guides


def guide_settings(base: BuildSettings, shared: dict, out: Path, guide_id: str) -> BuildSettings:
    """One guide's settings: the command line's, then the catalogue's shared ones; its own output folder."""
    s = dataclasses.replace(base, out_dir=out / guide_id, progress=False, rate=None)
    for key in ("engine", "voice", "pace", "pitch"):
        if key in shared:
            setattr(s, key, shared[key])
    s.rate = shared.get("rate", base.rate if base.rate_given else None)
    s.__post_init__()
    if shared.get("base_url"):
        s.base_url = shared["base_url"].rstrip("/") + "/" + quote(guide_id) + "/"
    return s


def build_catalogue(path: Path, out: Path, settings: BuildSettings, scheduler: str | None = None,
                    on_clip: Callable[[], None] | None = None) -> CatalogueResult:
    """Build every guide of the catalogue into out/<guide id>/, then the index. A guide that fails is reported
    and the others go on. With `scheduler`, clips are synthesised on that Dask cluster."""
    from audioguide.build import Builder
    from audioguide.catalogue.index import write_index
    from audioguide.guide import load_guide

    cat = load_catalogue(path)
    out = Path(out)
    remote = None
    if scheduler:
        from audioguide.catalogue.cluster import Cluster

        remote = Cluster(scheduler, on_clip=on_clip)  # connects first: if unreachable, nothing is written
        _say(remote.describe())
    outcomes: list[GuideOutcome] = []
    seen: dict[str, Path] = {}
    bar = _bar(settings, len(cat.guides))
    start = time.perf_counter()
    try:
        for source in cat.guides:
            o = GuideOutcome(source)
            try:
                guide = load_guide(source)
                o.id = guide.id
                if guide.id in seen:
                    raise ConfigError(f"Guide {source}: its id {guide.id!r} is the id of {seen[guide.id]} too.",
                                      cause="each guide of a catalogue is built into a folder named after its id",
                                      fix="give one of them another `id:` in its guide file")
                seen[guide.id] = source
                s = guide_settings(settings, cat.shared, out, guide.id)
                validate_settings(s)
                built = Builder(guide, s, remote=remote).run()
                o.out_dir, o.manifest = built.out_dir, built.manifest
                o.synthesized, o.encoded = built.synthesized, built.encoded
            except AudioguideError as exc:
                o.error = str(exc)
                log.debug("Guide %s failed: %s", source, exc)
            outcomes.append(o)
            bar.update(1)
            failed = sum(1 for x in outcomes if x.error)
            bar.set_postfix_str(_("{ok} ok, {failed} failed").format(ok=len(outcomes) - failed, failed=failed))
    finally:
        bar.close()
        if remote is not None:
            remote.close()
    result = CatalogueResult(cat, out, outcomes)
    write_index(result)
    log.info(_("Catalogue: {n} guides in {seconds} s.").format(n=len(outcomes),
                                                                seconds=f"{time.perf_counter() - start:.0f}"))
    return result


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _bar(settings: BuildSettings, total: int):
    from tqdm import tqdm

    return tqdm(total=total, desc="Catalogue", unit="guide", disable=not (settings.progress and sys.stderr.isatty()))
