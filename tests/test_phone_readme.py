"""The phone bundle's README says what the dialplan needs and what a caller sits through, as this build
measured it, not as a constant written once."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from audioguide.phone.asterisk import FORMAT_MODULES, MODULES, used
from audioguide.phone.audio import FORMATS
from audioguide.phone.menu import PhoneMenu

from conftest import needs_tools

if "MUTANT_UNDER_TEST" in os.environ:  # script/mutation: only the phone bundle of a kept build is made again
    from phone_builds import mini_build  # noqa: F401  (a fixture, asked for by name)

pytestmark = [needs_tools, pytest.mark.e2e]


def ffprobe_seconds(path) -> float:
    return float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                 str(path)], capture_output=True, text=True, check=True).stdout)


def fr(seconds: float) -> str:
    """A duration as the French README writes it: one decimal, with a comma."""
    return f"{seconds:.1f}".replace(".", ",")


def test_the_readme_says_what_the_dialplan_calls_and_which_modules_hold_it(mini_build):
    phone = mini_build.out_dir / "phone"
    readme = (phone / "README.md").read_text("utf-8")
    assert "Debian's asterisk package" not in readme  # Debian 12 has none
    assert "Debian 12 n'a pas de paquet `asterisk`" in readme and "Asterisk 1.8 ou plus récent" in readme
    calls = used((phone / "extensions.conf").read_text("utf-8"))
    assert {"Answer", "Background", "WaitExten", "Playback", "CHANNEL", "TIMEOUT"} <= set(calls)
    for name in calls:
        assert name in MODULES, f"{name}: say in asterisk.MODULES where Asterisk has it"
        assert f"`{name}`" in readme and MODULES[name] in readme, name
    assert set(FORMAT_MODULES) == set(FORMATS)
    assert all(f"`{m}`" in readme for m in FORMAT_MODULES.values())


def test_the_readme_gives_the_durations_of_its_own_sound_files(mini_build):
    """The welcome, the main menu and the longest page segment, as ffprobe reads the bundle's .wav files."""
    phone = mini_build.out_dir / "phone"
    readme = (phone / "README.md").read_text("utf-8")
    menu = PhoneMenu.from_json((phone / "menu.json").read_text("utf-8"))
    sounds = phone / "sounds"
    welcome = ffprobe_seconds(sounds / "welcome.wav")
    main = ffprobe_seconds(sounds / f"{menu.nodes[menu.root].prompt}.wav")
    segments = [ffprobe_seconds(sounds / f"{sid}.wav") for n in menu.nodes.values() for p in n.pages for sid in p]
    assert re.search(rf"L'accueil : {fr(welcome)} s\b", readme), readme
    assert f"Le menu principal : {fr(main)} s" in readme
    assert f"{len(segments)} segments" in readme and f"le plus long {fr(max(segments))} s" in readme
    assert "23 s" not in readme
