"""How the user can type this tool again: the commands it prints must run as printed."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def program() -> str:
    """`audioguide` when the shell finds this very one, else its path: script/build installs it in .venv/bin,
    which is not on the PATH."""
    here = Path(sys.executable).parent / "audioguide"
    found = shutil.which("audioguide")
    if not here.exists() or found and Path(found).resolve() == here.resolve():
        return "audioguide"
    rel = os.path.relpath(here)
    return shlex.quote(str(here) if rel.startswith("..") else rel)


def typed(text: str) -> str:
    """`text` with each command quoted as `audioguide …` naming the tool as the user can type it."""
    name = program()
    return text if name == "audioguide" else text.replace("`audioguide ", f"`{name} ")
