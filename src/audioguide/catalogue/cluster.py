"""Clip synthesis on a Dask distributed cluster.

The unit of work is one clip: (engine settings, text) -> WAV bytes. It names no file of the client, so workers
need the engines installed but no shared file system. The client keeps its clip cache, and writes every output
through the same journal and atomic publishing as a local build; a worker may keep its own clip cache
(AUDIOGUIDE_CACHE on the worker, else its default cache), keyed the same way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import lru_cache

from audioguide.exceptions import AudioguideError, EngineError

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = "10s"
RETRIES = 3
"""A clip whose worker died is run again elsewhere by the scheduler; these are for the engine failing."""
SPEC_FIELDS = ("engine", "voice", "rate", "pitch", "pace", "engine_options")


class Cluster:
    """remote(engine, [(text, key)…], cache) for Builder: submits the clips, keeps each one's bytes as it comes."""

    def __init__(self, address: str, on_clip: Callable[[], None] | None = None):
        try:
            from distributed import Client
        except ImportError as exc:
            raise AudioguideError("Le calcul sur une grappe Dask n'est pas installé.",
                                  cause="--scheduler a besoin des paquets dask et distributed",
                                  fix="pip install 'audioguide[cluster]', ou construisez sans --scheduler") from exc
        self.address = address
        self.on_clip = on_clip
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise AudioguideError(
                f"Impossible de joindre l'ordonnanceur Dask {address} : rien n'a été construit ni publié.",
                cause=f"aucun ordonnanceur ne répond à cette adresse ({type(exc).__name__}: {exc})",
                fix="démarrez-le (`dask scheduler` sur la machine qui coordonne, puis `dask worker ADRESSE` sur "
                    "chaque machine de calcul), vérifiez l'adresse et le port (tcp://machine:8786) et le pare-feu; "
                    "ou construisez sans --scheduler, sur cette machine") from exc

    def describe(self) -> str:
        workers = len(self.client.scheduler_info().get("workers", {}))
        try:
            import bokeh  # noqa: F401  (the dashboard is served only when bokeh is installed where the scheduler runs)

            board = f"tableau de bord Dask : {self.client.dashboard_link}"
        except ImportError:
            board = (f"tableau de bord Dask : {self.client.dashboard_link} (s'il ne s'ouvre pas, installez bokeh "
                     "là où tourne l'ordonnanceur)")
        return f"Grappe Dask {self.address} : {workers} machine(s) de calcul ; {board}"

    def __call__(self, engine, clips: list[tuple[str, str]], cache) -> None:
        from distributed import as_completed

        spec = engine_spec(engine)
        # Keyed by the clip key: the same clip asked twice (two guides, a retried run) is made once.
        futures = {self.client.submit(speak_clip, spec, text, key, key=f"clip-{key}", retries=RETRIES,
                                      pure=False): key for text, key in clips}
        try:
            for fut in as_completed(futures, loop=self.client.loop):
                key = futures[fut]
                try:
                    data = fut.result()
                except AudioguideError:
                    raise
                except Exception as exc:
                    raise EngineError(f"A Dask worker could not make a clip ({type(exc).__name__}: {exc}).",
                                      fix="check that audioguide and the engine are installed on every worker, "
                                          "then build again: finished clips are kept") from exc
                cache.put(key, data)
                fut.release()
                if self.on_clip:
                    self.on_clip()
        finally:
            for fut in futures:
                fut.release()

    def close(self) -> None:
        self.client.close()


def engine_spec(engine) -> dict:
    """What a worker needs to make the same engine: settings only, no path of the client's machine."""
    s = engine.settings
    return {"name": engine.name, **{k: getattr(s, k) for k in SPEC_FIELDS if k != "engine"}}


@lru_cache(maxsize=8)
def _engine(spec_items: tuple):
    from audioguide.config import BuildSettings
    from audioguide.tts import get_engine

    spec = dict(spec_items)
    s = BuildSettings(engine=spec["name"], voice=spec["voice"], rate=spec["rate"], pitch=spec["pitch"],
                      pace=spec["pace"], engine_options=dict(spec["engine_options"]), progress=False)
    engine = get_engine(spec["name"], s)
    engine.check()
    return engine


def speak_clip(spec: dict, text: str, key: str) -> bytes:
    """Runs on a worker: the clip's WAV bytes, from the worker's own cache or made there."""
    import socket

    from audioguide.tts.cache import ClipCache, clip_key

    items = tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in spec.items()))
    engine = _engine(items)
    if clip_key(engine, text) != key:
        # Another engine version or voice data here: its clips would not be the client's bytes.
        raise EngineError(f"Worker {socket.gethostname()} has another {engine.name} than the client "
                          f"({engine.identity()}).",
                          fix="install the same engine version and voices on every worker as on the client")
    return ClipCache(_worker_cache()).make(engine, text, key).read_bytes()


def _worker_cache():
    from pathlib import Path

    from audioguide.config import default_cache_dir

    return Path(os.environ.get("AUDIOGUIDE_WORKER_CACHE") or default_cache_dir())
