"""One exception tree. The CLI turns every AudioguideError into a message and an exit code (in brackets).

    AudioguideError            a problem the user can fix, with its probable cause and the fix
    ├── InputError (2)         a file given to a command cannot be read as what the command expects
    │   └── GuideError (2)     the guide source is invalid: every problem, with file, line and field
    ├── UsageError (2)         the command line is wrong: unknown command or option, malformed value
    │   └── ConfigError (2)    a setting (engine, voice, rate, -o KEY=VALUE, base URL…) is refused
    ├── EngineError (3)        a speech engine is missing, misconfigured or failed
    ├── AudioError (4)         ffmpeg is missing or failed
    ├── PublishError (5)       writing an output failed
    └── LockError (6)          another build is writing the same output folder

An error caught to be explained is raised anew from it (`raise NewError(...) from exc`): never edited in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from audioguide.i18n import _, ngettext


class AudioguideError(Exception):
    """Base of every error a user may see. Carries a probable cause and a fix."""

    exit_code = 1

    def __init__(self, message: str, *, cause: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.cause = cause
        self.fix = fix

    def __str__(self) -> str:
        parts = [self.message]
        if self.cause:
            parts.append(_("Probable cause: {cause}").format(cause=self.cause))
        if self.fix:
            parts.append(_("Fix: {fix}").format(fix=self.fix))
        return "\n".join(parts)


@dataclass(frozen=True)
class Problem:
    """One problem in a guide source, located as precisely as we can."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        if self.fix:
            text += "\n    " + _("Fix: {fix}").format(fix=self.fix)
        return text


class InputError(AudioguideError):
    """A file given to a command is not what it reads (a Word file given to `build`, a missing guide file…)."""

    exit_code = 2


class UsageError(AudioguideError):
    """The command line is wrong: an unknown command or option, a value that is not KEY=VALUE…"""

    exit_code = 2


class GuideError(InputError):
    """The guide source is invalid. Holds every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = ngettext("The guide has {n} problem:", "The guide has {n} problems:", n).format(n=n)
        super().__init__("\n".join([head] + [f"  {p}" for p in self.problems]))


class ConfigError(UsageError):
    """A build setting (engine, voice, rate, base URL…) is invalid."""

    exit_code = 2


class EngineError(AudioguideError):
    """A speech engine is missing, misconfigured or failed."""

    exit_code = 3


class AudioError(AudioguideError):
    """ffmpeg is missing or failed while assembling or encoding audio."""

    exit_code = 4


class PublishError(AudioguideError):
    """Writing an output (file, tag, feed) failed."""

    exit_code = 5


class LockError(AudioguideError):
    """Another build is writing the same output folder."""

    exit_code = 6
