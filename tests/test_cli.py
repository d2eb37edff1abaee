"""The command line: help for every verb, narrate on stdin, clear errors without tracebacks."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from audioguide.cli import cli

from conftest import DATA, ESANTE


def run(*args, input=None):
    return subprocess.run([sys.executable, "-m", "audioguide", *args], capture_output=True, text=True, input=input)


@pytest.mark.parametrize("verb", sorted(cli.commands))
def test_every_command_has_help(verb):
    r = CliRunner().invoke(cli, [verb, "--help"])
    assert r.exit_code == 0
    assert cli.commands[verb].help and len(cli.commands[verb].help) > 20


def test_narrate_stdin():
    r = run("narrate", "-", input="Rendez-vous le 06/05/2025 à 14h30 au 3422.\nLe DMP coûte 25 €.\n")
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "Rendez-vous le six mai deux mille vingt-cinq à quatorze heures trente au 3422.".replace("3422", "trois mille quatre cent vingt-deux"),
        "Le D.M.P. coûte vingt-cinq euros.",
    ]


def test_narrate_page():
    r = run("narrate", str(ESANTE), "--page", "mon-espace-sante/quest-ce-que-cest")
    assert r.returncode == 0
    assert "Partie deux, Dossier patient. Sujet un : Mon espace santé. Page un sur six" in r.stdout


def test_narrate_unknown_page_is_clear():
    r = run("narrate", str(ESANTE), "--page", "nope")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "No page 'nope'" in r.stderr


def test_engines_lists_each_with_status():
    r = run("engines")
    assert r.returncode == 0
    for name in ("espeak", "gtts", "piper", "silence"):
        assert name in r.stdout
    assert "sends text to a third party" in r.stdout


def test_unknown_engine_is_clear(tmp_path):
    r = run("build", str(DATA / "mini"), "--engine", "espek", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "Unknown engine 'espek'" in r.stderr and "did you mean 'espeak'" in r.stderr


def test_unknown_espeak_voice_is_clear(tmp_path):
    r = run("build", str(DATA / "mini"), "--voice", "klingon", "--out", str(tmp_path / "o"))
    assert r.returncode == 3 and "Traceback" not in r.stderr and "Unknown espeak-ng voice" in r.stderr


def test_missing_piper_voice_file_is_clear(tmp_path):
    r = run("build", str(DATA / "mini"), "--engine", "piper", "--voice", str(tmp_path / "x.onnx"),
            "--out", str(tmp_path / "o"))
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert "piper" in r.stderr.lower()


def test_bad_rate_is_clear(tmp_path):
    r = run("build", str(DATA / "mini"), "--rate", "5", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "rate 5" in r.stderr and "Traceback" not in r.stderr
