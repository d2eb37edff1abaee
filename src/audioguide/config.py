"""Build settings: typed, defaulted, each field documented in one line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from audioguide.exceptions import ConfigError

DEFAULT_BASE_URL = "http://127.0.0.1:8000/"


@dataclass(frozen=True)
class Pace:
    """A speaking pace: how fast the voice speaks and how long it pauses between sentences, items, pages."""

    rate: int
    """espeak-ng words per minute (`-s`); measured figures are in the README."""
    pause_scale: float
    """Multiplies every pause of narration.script.PAUSES."""


# Calmer than audiobook pace: listeners who are older, read little or are new to synthetic speech are
# usually given 120-140 words a minute, and a formant voice needs slower still.
PACES = {"lent": Pace(rate=115, pause_scale=1.4), "normal": Pace(rate=130, pause_scale=1.0)}
DEFAULT_PACE = "normal"


def default_cache_dir() -> Path:
    if os.environ.get("AUDIOGUIDE_CACHE"):
        return Path(os.environ["AUDIOGUIDE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "audioguide"


@dataclass
class BuildSettings:
    """Everything that shapes a build besides the guide itself."""

    engine: str = "espeak"
    """Speech engine name (see `audioguide engines`)."""
    voice: str | None = None
    """Engine voice: espeak-ng voice name, or a Piper .onnx path. None means the engine's French default."""
    pace: str | None = None
    """Speaking pace, a key of PACES (lent, normal); None takes the guide's `pace:`, else normal."""
    rate: int | None = None
    """Speaking rate in words per minute; None takes the pace's rate. Given explicitly, it wins over the pace."""
    pitch: int = 50
    """Pitch, 0 to 99 (espeak-ng scale)."""
    fallback: str | None = None
    """Engine to use when an online engine cannot be reached, only if the user asks for it."""
    out_dir: Path | None = None
    """Output folder; None means output/<guide-id>/. It must be new, empty, or made by earlier builds."""
    allow_foreign_files: bool = False
    """Build into an output folder that also holds files no build of this guide wrote (never removed)."""
    cache_dir: Path = field(default_factory=default_cache_dir)
    """Clip cache, kept across builds; keyed by engine, voice, settings and text."""
    clean: bool = False
    """Ignore the clip cache and rebuild everything."""
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Parallel synthesis/encoding workers."""
    base_url: str | None = None
    """Public URL the output folder is served from (for the podcast feed)."""
    loudness_lufs: float = -16.0
    """Integrated loudness target for every published MP3 (podcast norm)."""
    true_peak_db: float = -1.0
    """Ceiling for true peak, measured on the encoded MP3."""
    bitrate_kbps: int = 64
    """MP3 bitrate: 64 kbit/s CBR mono is transparent for synthetic speech and seeks exactly."""
    sample_rate: int = 44100
    """MP3 sample rate (Apple Podcasts asks for 44.1 kHz or more)."""
    engine_options: dict = field(default_factory=dict)
    """Extra engine settings (gTTS tld, Piper speaker and scales…)."""
    kiosk_idle: int = 120
    """Seconds without a key or touch after which the kiosk page returns to its main menu and forgets the topic
    (a shared kiosk); 0 never (a personal copy)."""
    progress: bool = True
    """Show a progress bar when stderr is a terminal."""
    rate_given: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        # Engines read `rate` directly, so it always holds a number; remember whether the user chose it.
        self.rate_given = self.rate is not None
        if self.rate is None:
            self.rate = PACES.get(self.pace or DEFAULT_PACE, PACES[DEFAULT_PACE]).rate

    def apply_guide(self, guide) -> None:
        """Settle the pace (command line, else the guide's `pace:`, else normal) and the rate it implies."""
        self.pace = self.pace or guide.pace or DEFAULT_PACE
        if not self.rate_given:
            self.rate = PACES[self.pace].rate

    def validate(self) -> None:
        problems = []
        if self.pace is not None and self.pace not in PACES:
            problems.append(f"pace {self.pace!r} is not one of {', '.join(PACES)}")
        if not 80 <= self.rate <= 450:
            problems.append(f"rate {self.rate} is outside 80–450 words per minute")
        if not 0 <= self.pitch <= 99:
            problems.append(f"pitch {self.pitch} is outside 0–99")
        if self.out_dir is not None and not str(self.out_dir).strip():
            problems.append("the output folder is empty text (it would mean the current folder)")
        if self.jobs < 1:
            problems.append(f"jobs {self.jobs} must be at least 1")
        if self.kiosk_idle != 0 and not 30 <= self.kiosk_idle <= 86400:
            # The page warns 20 s before it resets: less than 30 s would hurry a slow reader.
            problems.append(f"kiosk idle time {self.kiosk_idle} s is neither 0 (never) nor 30–86400 seconds")
        if self.bitrate_kbps not in (32, 40, 48, 56, 64, 80, 96, 112, 128):
            problems.append(f"bitrate {self.bitrate_kbps} kbit/s is not a standard MP3 speech bitrate")
        if self.base_url is not None:
            from audioguide.web import web_address  # the same rule as `base_url:` in a guide

            try:
                self.base_url = web_address(self.base_url.strip(), folder=True)
            except ValueError as exc:
                problems.append(f"base URL {self.base_url!r} {exc}")
        if problems:
            raise ConfigError(
                "Invalid build settings: " + "; ".join(problems) + ".",
                fix="correct the option on the command line (see `audioguide build --help`).",
            )
