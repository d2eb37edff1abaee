"""Build settings: typed, defaulted, each field documented in one line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from audioguide.exceptions import ConfigError
from audioguide.i18n import _


class HasPace(Protocol):
    """What the settings read of a guide (its `pace:`); a Protocol, as the guide stage sits above config."""

    @property
    def pace(self) -> str | None: ...


DEFAULT_BASE_URL = "http://127.0.0.1:8000/"
MP3_SPEECH_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128)


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
    engine_options: dict[str, str] = field(default_factory=dict)
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

    @property
    def words_per_minute(self) -> int:
        """The rate engines speak at: `rate`, which __post_init__ settles to a number."""
        return self.rate if self.rate is not None else PACES.get(self.pace or DEFAULT_PACE, PACES[DEFAULT_PACE]).rate

    def apply_guide(self, guide: HasPace) -> None:
        """Settle the pace (command line, else the guide's `pace:`, else normal) and the rate it implies."""
        self.pace = self.pace or guide.pace or DEFAULT_PACE
        if not self.rate_given:
            self.rate = PACES[self.pace].rate

    def validate(self, problems: list[tuple[str, str, str]] | None = None) -> None:
        """Refuse bad settings before any work, naming each with its option, the cause and the fix, in French.
        `problems`: all of them, engines' included (tts.settings_problems); by default the settings' own."""
        problems = self.problems() if problems is None else problems
        if problems:
            lines = [_("  {field}: {cause}.\n    Fix: {fix}.").format(field=field, cause=cause, fix=fix)
                     for field, cause, fix in problems]
            raise ConfigError(_("Invalid settings; nothing was done:") + "\n" + "\n".join(lines),
                              fix=_("correct each option named above, then run the command again"))

    def problems(self) -> list[tuple[str, str, str]]:
        """(option as the user wrote it, cause, fix) for each bad setting; settles base_url to its normal form."""
        problems: list[tuple[str, str, str]] = []
        if self.pace is not None and self.pace not in PACES:
            problems.append((f"--pace {self.pace}", _("this pace does not exist"),
                             _("choose {paces}").format(paces=_(" or ").join(PACES))))
        if not 80 <= self.words_per_minute <= 450:
            problems.append((f"--rate {self.rate}", _("the speed is outside 80 to 450 words per minute"),
                             _("give for example --rate {normal} (normal) or {slow} (slow), or --pace lent")
                             .format(normal=PACES['normal'].rate, slow=PACES['lent'].rate)))
        if not 0 <= self.pitch <= 99:
            problems.append((f"--pitch {self.pitch}", _("the voice pitch is outside 0 to 99"),
                             _("give a number from 0 to 99; 50 is the usual pitch")))
        if self.out_dir is not None and not str(self.out_dir).strip():
            problems.append(("--out", _("the output folder is empty (it would be the current folder)"),
                             _("give a folder name, for example --out output")))
        if self.jobs < 1:
            problems.append((f"--jobs {self.jobs}", _("at least one worker is needed"),
                             _("give 1 or more, or remove the option (one per processor core)")))
        if self.kiosk_idle != 0 and not 30 <= self.kiosk_idle <= 86400:
            # The page warns 20 s before it resets: less than 30 s would hurry a slow reader.
            problems.append((f"--kiosk-idle {self.kiosk_idle}", _("the kiosk delay is neither 0 (never) nor "
                             "30 to 86400 seconds"), _("give 0 (never) or at least 30 seconds, for example 120")))
        if self.bitrate_kbps not in MP3_SPEECH_BITRATES:
            problems.append((f"bitrate_kbps {self.bitrate_kbps}", _("this is not a usual MP3 bitrate for speech"),
                             _("choose from {rates} kbit/s").format(rates=", ".join(map(str, MP3_SPEECH_BITRATES)))))
        if self.base_url is not None:
            from audioguide.web import web_address  # the same rule as `base_url:` in a guide

            try:
                self.base_url = web_address(self.base_url.strip(), folder=True)
            except ValueError as exc:
                problems.append((f"--base-url {self.base_url}",
                                 _("this address (base URL) is not suitable: {error}").format(error=exc),
                                 _("give the full address of the published folder, for example "
                                   "https://asso.example/guide/")))
        return problems
