"""Settings and command lines refused before any work, in French, with the field, the cause and the fix; the
exception tree; the commands the tool prints run as printed."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import audioguide.exceptions as exceptions
from audioguide.cli import cli
from audioguide.config import BuildSettings
from audioguide.exceptions import AudioguideError, ConfigError
from audioguide.tts import engine_classes, settings_problems, validate_settings

from conftest import DATA

MINI = str(DATA / "mini")
# The messages asserted here are the French ones, the default.
pytestmark = pytest.mark.french


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="audioguide")


def refused(r, *expected: str) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    for text in expected:
        assert text in r.output, (text, r.output)


@pytest.mark.parametrize("command", [["listen", MINI, "utiliser-le-guide"], ["build", MINI]])
def test_a_rate_out_of_range_is_refused_by_every_command_before_any_work(tmp_path, command):
    out = tmp_path / "out.wav" if command[0] == "listen" else tmp_path / "out"
    cache = tmp_path / "cache"
    r = invoke(*command, "--rate", "5000", "--out", str(out), "--cache", str(cache), "--engine", "silence")
    refused(r, "--rate 5000 : la vitesse est hors de 80 à 450 mots par minute",
            "Correction : donnez par exemple --rate 130")
    assert not out.exists() and not cache.exists()


@pytest.mark.parametrize("engine,key,close", [("piper", "lenght_scale", "length_scale"), ("gtts", "tdl", "tld"),
                                              ("piper", "speeker", "speaker")])
@pytest.mark.parametrize("command", ["listen", "build"])
def test_a_misspelt_engine_option_is_refused_with_did_you_mean(tmp_path, engine, key, close, command):
    args = [MINI, "utiliser-le-guide"] if command == "listen" else [MINI]
    r = invoke(command, *args, "--engine", engine, "-o", f"{key}=1", "--out", str(tmp_path / "o"))
    refused(r, f"-o {key}=1 : le moteur {engine} ne connaît pas le réglage « {key} »",
            f"vouliez-vous dire « {close} » ?")
    assert not (tmp_path / "o").exists()


def test_an_engine_without_options_says_so():
    problems = settings_problems(BuildSettings(engine="espeak", engine_options={"speed": "2"}))
    assert problems == [("-o speed=2", "le moteur espeak ne connaît pas le réglage « speed »",
                         "réglages de ce moteur : aucun ; voyez `audioguide engines`")]


def test_an_option_of_the_fallback_engine_is_accepted():
    options = {"tld": "fr", "speaker": "0"}
    assert settings_problems(BuildSettings(engine="gtts", fallback="piper", engine_options=options)) == []


@pytest.mark.parametrize("option,cause", [
    ("length_scale=abc", "« abc » n'est pas un nombre"),
    ("length_scale=0", "0 est hors de 0.25 à 4"),
    ("speaker=1.5", "« 1.5 » n'est pas un nombre entier"),
    ("speaker=-1", "-1 est hors de 0 à 9999"),
    ("noise_w=3", "3 est hors de 0 à 2"),
])
def test_a_bad_engine_option_value_names_the_field_the_cause_and_the_fix(option, cause):
    s = BuildSettings(engine="piper", engine_options=dict([option.split("=")]))
    with pytest.raises(ConfigError) as e:
        validate_settings(s)
    key = option.split("=")[0]
    text = str(e.value)
    assert f"  -o {option} : {cause}" in text and "Correction : " in text
    assert f"par exemple -o {engine_classes()['piper'].options[key].example}" in text


def test_a_google_domain_with_a_space_is_refused():
    with pytest.raises(ConfigError, match=r"-o tld=f r : « f r » n'a pas la forme attendue"):
        validate_settings(BuildSettings(engine="gtts", engine_options={"tld": "f r"}))


def test_every_engine_option_is_typed_and_its_example_passes():
    for name, cls in engine_classes().items():
        for key, option in cls.options.items():
            assert option.kind in (int, float, str) and option.help, (name, key)
            example_key, value = option.example.split("=")
            assert example_key == key and option.problem(value) is None, (name, key)
    assert set(engine_classes()["piper"].options) == {"speaker", "length_scale", "noise_scale", "noise_w"}
    assert set(engine_classes()["gtts"].options) == {"tld"}


def test_engines_lists_each_engine_options():
    r = invoke("engines")
    assert "-o length_scale=1.1" in r.output and "-o tld=fr" in r.output


def test_several_bad_settings_are_all_named_at_once():
    s = BuildSettings(engine="espek", rate=5000, pitch=120, jobs=0)
    fields = [f for f, _, _ in settings_problems(s)]
    assert fields == ["--rate 5000", "--pitch 120", "--jobs 0", "--engine espek"]


def test_an_engine_option_not_key_value_is_a_usage_error(tmp_path):
    r = invoke("build", MINI, "-o", "tld", "--out", str(tmp_path / "o"))
    refused(r, "Le réglage de moteur -o tld n'a pas la forme CLÉ=VALEUR.")
    assert r.output.splitlines()[1] == "Solution : écrivez par exemple -o tld=fr (gTTS) ou -o length_scale=1.1 (Piper)"


@pytest.mark.parametrize("args,expected", [
    (["buidl", MINI], "La commande « buidl » n'existe pas : vouliez-vous dire build ?"),
    (["lisen"], "vouliez-vous dire listen ?"),
    (["voices", "instal", "x"], "La commande « instal » n'existe pas : vouliez-vous dire install ?"),
    (["build", MINI, "--ratee", "130"], "L'option --ratee n'existe pas : vouliez-vous dire"),
    (["listen", MINI, "p", "--engin", "silence"], "L'option --engin n'existe pas : vouliez-vous dire --engine ?"),
    (["--verbos", "check", MINI], "L'option --verbos n'existe pas : vouliez-vous dire --verbose"),
    (["build", MINI, "--rate", "vite"], "Commande mal écrite :"),
])
def test_a_mistyped_command_or_option_is_answered_in_french(args, expected):
    r = invoke(*args)
    refused(r, expected, "voyez ")
    assert "No such" not in r.output and "Did you mean" not in r.output


def test_the_exception_tree_is_drawn_in_the_module_docstring():
    assert issubclass(exceptions.GuideError, exceptions.InputError)
    assert issubclass(exceptions.ConfigError, exceptions.UsageError)
    assert exceptions.InputError.exit_code == exceptions.UsageError.exit_code == 2
    doc = exceptions.__doc__
    for name, cls in vars(exceptions).items():
        if isinstance(cls, type) and issubclass(cls, AudioguideError) and cls is not AudioguideError:
            assert re.search(rf"── {name} \({cls.exit_code}\)", doc), name


def test_an_error_explained_keeps_its_cause():
    from audioguide.serve import make_server

    with pytest.raises(AudioguideError) as e:
        make_server(DATA, "127.0.0.1", 70000)
    assert isinstance(e.value.__cause__, OverflowError)


def test_the_commands_new_prints_run_as_printed(tmp_path):
    """After script/build, .venv/bin is not on the PATH: the commands the tool prints must say where it is."""
    exe = Path(sys.executable).parent / "audioguide"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(exe), "new", "guide"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.split("puis : ", 1)[1].split(" && ")[0]
    assert printed.split()[0] != "audioguide"
    check = subprocess.run(printed, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert check.returncode == 0 and "OK :" in check.stdout, (printed, check.stderr)


def test_the_commands_an_error_names_run_as_printed(tmp_path):
    exe = Path(sys.executable).parent / "audioguide"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(exe), "build", MINI, "--engine", "espek"], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 2
    printed = re.search(r"`([^`]+ engines)`", proc.stderr).group(1)
    assert printed != "audioguide engines"
    listed = subprocess.run(printed, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.startswith("espeak"), (printed, listed.stderr)


def test_the_commands_printed_say_audioguide_when_the_shell_finds_this_one(tmp_path, monkeypatch):
    """With the tool's folder on the PATH, `audioguide` itself is what the volunteer types next."""
    import os
    import sys
    from pathlib import Path

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    r = invoke("new", str(tmp_path / "guide"))
    assert r.exit_code == 0, r.output
    assert f": audioguide check {tmp_path / 'guide'} && audioguide listen {tmp_path / 'guide'} pourquoi-ce-guide" \
        in r.output


def test_every_bad_build_setting_is_named_in_french_and_the_limits_are_accepted(tmp_path):
    """The highest rate and pitch are allowed; an empty --out, a kiosk delay of 5 s and an address without
    http:// are each named with its cause and its fix, and nothing is built."""
    r = invoke("build", MINI, "--rate", "450", "--pitch", "99", "--kiosk-idle", "5", "--out", " ",
               "--base-url", "asso.example/guide")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.splitlines() == [
        "Erreur : Réglages invalides ; rien n'a été fait :",
        "  --out : le dossier de sortie est vide (ce serait le dossier courant).",
        "    Correction : donnez un nom de dossier, par exemple --out sortie.",
        "  --kiosk-idle 5 : le délai de la borne n'est ni 0 (jamais) ni de 30 à 86400 secondes.",
        "    Correction : donnez 0 (jamais) ou au moins 30 secondes, par exemple 120.",
        "  --base-url asso.example/guide : cette adresse (base URL) ne convient pas : doit commencer par http:// ou "
        "https://.",
        "    Correction : donnez l'adresse complète du dossier publié, par exemple https://asso.example/guide/.",
        "Solution : corrigez chaque option nommée ci-dessus, puis relancez la commande"]


def test_a_pace_or_bitrate_that_does_not_exist_is_named_with_the_choices():
    from audioguide.config import BuildSettings

    assert BuildSettings(pace="vite", bitrate_kbps=65).problems() == [
        ("--pace vite", "ce rythme n'existe pas", "choisissez lent ou normal"),
        ("bitrate_kbps 65", "ce n'est pas un débit MP3 habituel pour la voix",
         "choisissez parmi 32, 40, 48, 56, 64, 80, 96, 112, 128 kbit/s")]


def test_the_feed_address_is_a_folder_address():
    """The feed and the kiosk link each file under --base-url: without its final slash, the last folder of the
    address would be dropped from every link."""
    from audioguide.config import BuildSettings

    s = BuildSettings(base_url=" https://asso.example/guide ")
    assert s.problems() == [] and s.base_url == "https://asso.example/guide/"


def test_a_mistyped_subcommand_points_to_its_own_group_help():
    r = invoke("voices", "instal", "x")
    refused(r, "La commande « instal » n'existe pas : vouliez-vous dire install ?")
    assert r.output.splitlines()[1].endswith(" voices --help`")


def test_lang_after_another_top_level_option_still_chooses_the_language():
    r = invoke("-v", "--lang", "en", "check", "--help")
    assert r.exit_code == 0 and "Validate a guide and report every problem" in r.output
