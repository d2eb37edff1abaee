"""A build started from the studio: the CLI's Builder (so the CLI's output lock), watched for its progress."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from audioguide.build import Builder
from audioguide.config import BuildSettings
from audioguide.exceptions import AudioguideError, LockError

log = logging.getLogger(__name__)

# Share of a whole build each step takes (synthesis dominates); the estimate of the time left comes from them.
STEPS = {"lecture": ("Lecture du guide", 0.0, 0.02), "voix": ("Synthèse de la voix", 0.02, 0.7),
         "chapitres": ("Assemblage et encodage des chapitres", 0.7, 0.95),
         "publication": ("Podcast, livres, ligne téléphonique et borne", 0.95, 1.0)}


@dataclass
class Progress:
    step: str = "lecture"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: bool = False
    error: str | None = None
    summary: str = ""
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def fraction(self) -> float:
        _, lo, hi = STEPS[self.step]
        inner = self.done / self.total if self.total else 0.0
        return 1.0 if self.finished and not self.error else lo + (hi - lo) * min(inner, 1.0)

    def eta(self) -> int | None:
        """Seconds left, from the time spent so far; None until there is enough to go on."""
        f, spent = self.fraction, time.monotonic() - self.started
        if self.finished or f < 0.03:
            return None
        return max(0, round(spent / f * (1 - f)))

    def update(self, **kw) -> None:
        with self.changed:
            for k, v in kw.items():
                setattr(self, k, v)
            self.changed.notify_all()

    def event(self) -> dict:
        return {"step": self.step, "label": STEPS[self.step][0], "percent": round(self.fraction * 100),
                "eta": self.eta(), "finished": self.finished, "error": self.error, "summary": self.summary}


class WatchedBuilder(Builder):
    """The CLI's Builder, telling `progress` each stage and each clip and chapter done."""

    def __init__(self, guide, settings: BuildSettings, progress: Progress):
        super().__init__(guide, settings)
        self.progress = progress
        make = self.cache.make

        def counted(*a, **kw):
            out = make(*a, **kw)
            with progress.changed:
                progress.done += 1
                progress.changed.notify_all()
            return out

        self.cache.make = counted  # type: ignore[method-assign]  # counts the clips of this build only

    def narrate(self):
        self.progress.update(step="lecture", done=0, total=0)
        return super().narrate()

    def synthesize(self, scripts):
        texts = {s.text for pages in scripts.values() for p in pages for s in p.segments}
        self.progress.update(step="voix", done=0, total=max(1, len(texts)))
        return super().synthesize(scripts)

    def chapters(self, *a, **kw):
        self.progress.update(step="chapitres", done=0, total=len(self.guide.chapters))
        return super().chapters(*a, **kw)

    def chapter(self, *a, **kw):
        out = super().chapter(*a, **kw)
        with self.progress.changed:
            self.progress.done += 1
            self.progress.changed.notify_all()
        return out

    def publish(self):
        self.progress.update(step="publication", done=0, total=1)
        return super().publish()


class BuildJob:
    """One build at a time per studio; its progress is read by any number of event streams."""

    def __init__(self):
        self.progress: Progress | None = None
        self.thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, guide_path: Path, settings: BuildSettings) -> Progress:
        from audioguide.guide import load_guide

        if self.running:
            raise AudioguideError("Une construction est déjà en cours dans ce studio.",
                                  fix="attendez qu'elle finisse : la barre de progression la suit")
        guide = load_guide(guide_path)
        settings.validate()
        progress = Progress()

        def run():
            try:
                result = WatchedBuilder(guide, settings, progress).run()
                m = result.manifest
                total = sum(c["duration"] for c in m["chapters"])
                progress.update(finished=True, summary=f"{len(m['chapters'])} chapitres, {total / 60:.1f} min "
                                f"({result.synthesized} extraits de voix synthétisés).")
            except LockError as exc:
                progress.update(finished=True, error="Une autre construction écrit déjà dans le dossier des "
                                "sorties (lancée depuis un terminal ou un autre studio). Attendez qu'elle finisse, "
                                f"puis recommencez. ({exc.message})")
            except AudioguideError as exc:
                progress.update(finished=True, error=str(exc))
            except Exception as exc:  # noqa: BLE001 - shown to the user, and logged with its traceback
                log.exception("Build failed")
                progress.update(finished=True, error=f"La construction a échoué : {exc}")

        self.progress = progress
        self.thread = threading.Thread(target=run, name="studio-build", daemon=True)
        self.thread.start()
        return progress
