"""The command line: help for every verb, narrate on stdin, clear errors without tracebacks."""

import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.command import program

from conftest import DATA, ESANTE


def run(*args, input=None, env=None):
    return subprocess.run([sys.executable, "-m", "audioguide", *args], capture_output=True, text=True, input=input,
                          env=env)


# What each verb's --help must show: its usage line, its docstring's first words, and every option it takes.
HELP = {
    "build": ("build [OPTIONS] GUIDE", "Build the audio guide", ["--out", "--engine", "--voice", "--rate", "--clean",
                                                                 "--jobs", "--base-url", "--pace",
                                                                 "--allow-foreign-files"]),
    "check": ("check [OPTIONS] GUIDE", "Validate a guide and report every problem", ["--speech", "--strict"]),
    "narrate": ("narrate [OPTIONS] [SOURCE]", "Print the spoken form", ["--page", "--chapter"]),
    "engines": ("engines [OPTIONS]", "List speech engines, whether each can run here", []),
    "serve": ("serve [OPTIONS] [FOLDER]", "Serve an output folder over HTTP", ["--port"]),
    "phone": ("phone [OPTIONS] SOURCE", "Try the phone line in a terminal", ["--keys", "--mute"]),
    "voices": ("voices [OPTIONS] [COMMAND] [ARGS]...", "List the Piper neural voices", ["--all", "--refresh"]),
    "convert": ("convert [OPTIONS] SOURCE TARGET", "Convert a guide between YAML and Markdown", []),
    "import": ("import [OPTIONS] DOCUMENT", "Make a Markdown guide draft", ["--out"]),
    "schema": ("schema [OPTIONS]", "Print the JSON Schema of the guide format", []),
    "toc": ("toc [OPTIONS] GUIDE", "List the guide's parts, chapters and pages", []),
    "listen": ("listen [OPTIONS] GUIDE PAGE", "Hear one page", ["--out", "--engine", "--voice"]),
    "new": ("new [OPTIONS] FOLDER", "Start a guide", []),
    "catalogue": ("catalogue [OPTIONS] COMMAND [ARGS]...", "Build many guides in one run", []),
    "studio": ("studio [OPTIONS] [FOLDER]", "Open the studio", ["--port", "--host", "--secret"]),
}


def test_every_command_is_listed_in_the_help_table():
    assert sorted(cli.commands) == sorted(HELP)


@pytest.mark.parametrize("verb", sorted(HELP))
def test_every_command_has_help(verb):
    usage, summary, options = HELP[verb]
    r = CliRunner().invoke(cli, [verb, "--help"], prog_name="audioguide")
    assert r.exit_code == 0
    text = " ".join(r.output.split())  # click wraps lines
    assert text.startswith(f"Usage: audioguide {usage}"), r.output
    assert summary in text
    for opt in options:
        assert re.search(rf"{opt}\b[^\n]*\S", r.output), (opt, r.output)  # listed, with its help text
    assert summary in " ".join(CliRunner().invoke(cli, ["--help"]).output.split())  # and in the verb list


def test_narrate_stdin():
    r = run("narrate", "-", input="Rendez-vous le 06/05/2025 à 14h30 au 3422.\nLe DMP coûte 25 €.\n")
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        # "au 3422": a four-digit 3xxx number after "au" is a service number, said in pairs (issue 23)
        "Rendez-vous le six mai deux mille vingt-cinq à quatorze heures trente au trente-quatre vingt-deux.",
        "Le D.M.P. coûte vingt-cinq euros.",
    ]


def test_narrate_page():
    r = run("narrate", str(ESANTE), "--page", "mon-espace-sante/quest-ce-que-cest")
    assert r.returncode == 0
    assert "Partie deux, Dossier patient. Sujet un : Mon espace santé. Page un sur six" in r.stdout


def test_narrate_unknown_page_is_clear():
    r = run("narrate", str(ESANTE), "--page", "nope")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "No page 'nope'" in r.stderr


def engine_rows(stdout: str) -> dict[str, tuple[str, str]]:
    """{engine: (yes/no, the line under it)} from `audioguide engines`."""
    lines = stdout.splitlines()
    return {m.group(1): (m.group(2), lines[i + 1].strip())
            for i, line in enumerate(lines) if (m := re.match(r"(\w+) +(yes|no) +\S", line))}


def test_engines_lists_each_with_status():
    r = run("engines")
    assert r.returncode == 0
    rows = engine_rows(r.stdout)
    assert sorted(rows) == ["espeak", "gtts", "piper", "silence"]
    assert rows["espeak"] == ("yes", rows["espeak"][1]) and rows["espeak"][1].startswith("ready (eSpeak NG")
    assert rows["silence"] == ("yes", "ready")
    gtts_line = next(line for line in r.stdout.splitlines() if line.startswith("gtts"))
    assert gtts_line.endswith("[online: sends text to a third party]")
    assert "third party" not in r.stdout.replace(gtts_line, "")  # only the online engine says so


def test_engines_says_no_and_the_fix_when_espeak_is_missing(tmp_path):
    r = run("engines", env={**os.environ, "PATH": str(tmp_path)})  # a PATH without espeak-ng
    assert r.returncode == 0
    rows = engine_rows(r.stdout)
    assert rows["espeak"] == ("no", "espeak-ng is not installed. Fix: install it with: apt-get install espeak-ng "
                                    "(or run script/bootstrap)")
    assert rows["silence"][0] == "yes"


@pytest.mark.french
def test_unknown_engine_is_clear(tmp_path):
    r = run("build", str(DATA / "mini"), "--engine", "espek", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--engine espek : ce moteur de voix n'existe pas" in r.stderr
    assert "vouliez-vous dire « espeak » ?" in r.stderr


def test_unknown_espeak_voice_is_clear(tmp_path):
    r = run("build", str(DATA / "mini"), "--voice", "klingon", "--out", str(tmp_path / "o"))
    assert r.returncode == 3 and "Traceback" not in r.stderr and "Unknown espeak-ng voice" in r.stderr


def test_missing_piper_voice_file_is_clear(tmp_path):
    r = run("build", str(DATA / "mini"), "--engine", "piper", "--voice", str(tmp_path / "x.onnx"),
            "--out", str(tmp_path / "o"))
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert r.stderr.splitlines() == [
        f"Error: Piper voice file not found: {tmp_path / 'x.onnx'}",
        "Probable cause: wrong path, or the voice was not downloaded",
        f"Fix: install a French voice with `{program()} voices install fr_FR-siwis-medium`, then pass --voice "
        "fr_FR-siwis-medium (or --voice PATH/NAME.onnx for a file with its .onnx.json beside it)"]
    assert not (tmp_path / "o").exists()  # nothing was started


def test_bad_rate_is_clear(tmp_path):
    r = run("build", str(DATA / "mini"), "--rate", "5", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "rate 5" in r.stderr and "Traceback" not in r.stderr


def test_catalogue_build_has_help():
    r = CliRunner().invoke(cli, ["catalogue", "build", "--help"], prog_name="audioguide")
    text = " ".join(r.output.split())
    assert r.exit_code == 0 and text.startswith("Usage: audioguide catalogue build [OPTIONS] CATALOGUE")
    assert all(opt in text for opt in ("--out", "--scheduler", "--jobs", "--cache"))
