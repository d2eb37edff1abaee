"""The operator's language (issue 26, section 2): French by default, English with LANG=en… or --lang en; the
French catalogue covers every English msgid, with the same placeholders, and its .mo is the compiled .po."""

from __future__ import annotations

import inspect
import io
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.i18n import LOCALE_DIR, from_environment

ROOT = Path(__file__).resolve().parents[1]
PO = LOCALE_DIR / "fr" / "LC_MESSAGES" / "audioguide.po"
EXE = str(Path(sys.executable).parent / "audioguide")


def catalogue():
    with PO.open("rb") as f:
        return read_po(f)


def msgids() -> set:
    """Every text the code marks (`_`, `ngettext`, `N_`) and every help text of the command tree."""
    found = {m[2] for m in extract_from_dir(str(ROOT / "src" / "audioguide"), [("**.py", "python")],
                                            keywords={"_": None, "N_": None, "ngettext": (1, 2), "N2_": (1, 2)})}
    found = {f if isinstance(f, str) else tuple(f) for f in found}

    def walk(cmd):
        for obj in [cmd, *cmd.params]:
            for attr in ("help", "short_help"):
                text = getattr(obj, "_msgid_" + attr, None) or getattr(obj, attr, None)
                if text:
                    found.add(inspect.cleandoc(text))
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(cli)
    return found


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{[^{}]*\}", text))


def test_every_msgid_has_a_french_translation_with_the_same_placeholders():
    cat = catalogue()
    problems = []
    for mid in sorted(msgids(), key=str):
        msg = cat.get(mid if isinstance(mid, str) else mid[0])
        if msg is None or msg.fuzzy or not all(msg.string if isinstance(msg.string, tuple) else [msg.string]):
            problems.append(f"missing or fuzzy: {mid!r}")
            continue
        for source, target in zip([mid] if isinstance(mid, str) else mid,
                                  [msg.string] if isinstance(msg.string, str) else msg.string):
            if placeholders(source) != placeholders(target):
                problems.append(f"placeholders differ: {source!r} -> {target!r}")
    assert not problems, "\n".join(problems)


def test_the_committed_mo_is_the_compiled_po():
    out = io.BytesIO()
    write_mo(out, catalogue())
    assert (PO.with_suffix(".mo")).read_bytes() == out.getvalue(), "run: pybabel compile -D audioguide -d " \
        "src/audioguide/locale"


@pytest.mark.parametrize("env, lang", [
    ({}, "fr"), ({"LANG": "fr_FR.UTF-8"}, "fr"), ({"LANG": "C.UTF-8"}, "fr"), ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LC_ALL": "en_GB.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"), ({"LANGUAGE": "fr:en", "LANG": "en_US.UTF-8"}, "fr"),
])
def test_language_from_the_environment(env, lang):
    assert from_environment(env) == lang


def run(args, lang_env: dict[str, str], cwd: Path):
    """The installed command, as the volunteer runs it, in a clean locale environment."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), **lang_env}
    return subprocess.run([EXE, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("lang_env", [{}, {"LANG": "fr_FR.UTF-8"}])
def test_french_by_default(tmp_path, lang_env):
    r = run(["--help"], lang_env, tmp_path)
    assert "Construire le guide audio" in r.stdout and "Plus de messages" in r.stdout, r.stdout
    assert r.stdout.startswith("Utilisation : audioguide") and "Afficher cette aide et quitter." in r.stdout
    r = run(["convert", "absent.yaml", "x.md"], lang_env, tmp_path)  # click's own refusal, in French too
    assert "Chemin 'absent.yaml' n'existe pas." in r.stderr and "Solution : voyez l'aide" in r.stderr, r.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "guide.yaml").write_text("title: 5\nchapters: []\n", encoding="utf-8")
    r = run(["check", "bad"], lang_env, tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "Erreur : Le guide a" in r.stderr
    assert "guide.yaml:1:8: title: mauvais type : attendu du texte, trouvé un nombre" in r.stderr, r.stderr
    assert "Solution : mettez la valeur entre guillemets pour en faire un texte" in r.stderr
    r = run(["new", "g"], lang_env, tmp_path)
    assert "g/guide.md écrit. Modifiez-le, puis :" in r.stdout, r.stdout
    text = (tmp_path / "g" / "guide.md").read_text(encoding="utf-8")
    assert "# Mots que la voix dit mal" in text and "Words the voice" not in text


@pytest.mark.parametrize("args, lang_env", [([], {"LANG": "en_US.UTF-8"}), (["--lang", "en"], {"LANG": "fr_FR.UTF-8"}),
                                            (["--lang=en"], {})])
def test_english_on_request(tmp_path, args, lang_env):
    r = run([*args, "--help"], lang_env, tmp_path)
    assert "Build the audio guide" in r.stdout and "More messages" in r.stdout, r.stdout
    assert r.stdout.startswith("Usage: audioguide") and "Show this message and exit." in r.stdout
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "guide.yaml").write_text("title: 5\nchapters: []\n", encoding="utf-8")
    r = run([*args, "check", "bad"], lang_env, tmp_path)
    assert r.returncode == 2
    assert "Error: The guide has" in r.stderr
    assert "guide.yaml:1:8: title: wrong type: expected text, found a number" in r.stderr, r.stderr
    assert "Fix: put the value in quotes to make it text" in r.stderr
    r = run([*args, "new", "g"], lang_env, tmp_path)
    assert "Wrote g/guide.md. Edit it, then:" in r.stdout, r.stdout
    assert "# Words the voice says badly" in (tmp_path / "g" / "guide.md").read_text(encoding="utf-8")


def test_a_command_help_follows_lang_in_the_same_process():
    """CliRunner runs both in one process: the help texts switch back and forth."""
    fr = CliRunner().invoke(cli, ["--lang", "fr", "check", "--help"]).output
    en = CliRunner().invoke(cli, ["--lang", "en", "check", "--help"]).output
    assert "Vérifier un guide" in fr and "Validate a guide" in en
    assert "Vérifier un guide" in CliRunner().invoke(cli, ["--lang", "fr", "check", "--help"]).output


@pytest.mark.french
def test_the_error_labels_in_french():
    """Every AudioguideError is printed with its labels in the operator's language."""
    from audioguide.exceptions import AudioguideError

    text = str(AudioguideError("x", cause="le disque est plein", fix="libérez de la place"))
    assert text == "x\nCause probable : le disque est plein\nSolution : libérez de la place"
    r = CliRunner().invoke(cli, ["listen", str(ROOT / "tests" / "data" / "mini"), "nulle-part"])
    assert r.exit_code != 0 and r.output.startswith("Erreur : Pas de page ni de chapitre 'nulle-part'"), r.output


# Texts that were French literals (settings, a document given as a guide, the import report): French by default,
# English with --lang en, the same command in both.
PAGE = "<html><body><h1>Titre</h1><h2>Une</h2><p>Texte un.</p><h2>Deux</h2><p>Texte deux.</p></body></html>"
SAID = {
    "fr": ("--rate 5000 : la vitesse est hors de 80 à 450 mots par minute.",
           "Correction : donnez par exemple --rate 130 (normal) ou 115 (lent), ou --pace lent.",
           "notice.docx: c'est un fichier Word : utilisez audioguide import",
           "Trouvé : 0 partie(s), 1 sujet(s), 2 page(s), 2 paragraphe(s), 0 liste(s), 0 lien(s).",
           "Le premier titre, « Titre », est pris comme titre du guide."),
    "en": ("--rate 5000: the speed is outside 80 to 450 words per minute.",
           "Fix: give for example --rate 130 (normal) or 115 (slow), or --pace lent.",
           "notice.docx: this is a Word file: use audioguide import",
           "Found: 0 part(s), 1 topic(s), 2 page(s), 2 paragraph(s), 0 list(s), 0 link(s).",
           "The first heading, “Titre”, is taken as the guide's title."),
}


@pytest.mark.parametrize("args, lang_env, lang", [([], {}, "fr"), ([], {"LANG": "fr_FR.UTF-8"}, "fr"),
                                                  (["--lang", "en"], {"LANG": "fr_FR.UTF-8"}, "en"),
                                                  ([], {"LANG": "en_GB.UTF-8"}, "en")])
def test_settings_documents_and_import_report_follow_the_language(tmp_path, args, lang_env, lang):
    rate, fix, docx, found, title = SAID[lang]
    other = SAID["en" if lang == "fr" else "fr"]
    r = run([*args, "build", str(ROOT / "tests" / "data" / "mini"), "--rate", "5000", "--out", "o"], lang_env, tmp_path)
    assert r.returncode == 2 and rate in r.stderr and fix in r.stderr, r.stderr
    assert other[0] not in r.stderr and not (tmp_path / "o").exists()
    (tmp_path / "notice.docx").write_bytes(b"PK\x03\x04 not a guide")
    r = run([*args, "check", "notice.docx"], lang_env, tmp_path)
    assert r.returncode == 2 and docx in r.stderr and other[2] not in r.stderr, r.stderr
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    r = run([*args, "import", "page.html", "--out", "d"], lang_env, tmp_path)
    assert r.returncode == 0 and found in r.stdout and title in r.stdout, r.stdout
    report = (tmp_path / "d" / "import-report.txt").read_text(encoding="utf-8")
    assert found in report and other[3] not in report


def test_an_engine_option_refused_in_english_on_request():
    """The engines' option texts were French literals: with English asked for (the fixture), all English."""
    from audioguide.tts import option_problems

    assert option_problems(["piper"], {"length_scale": "abc", "speed": "2"}) == [
        ("-o length_scale=abc", "“abc” is not a number (with a point: 1.1)",
         "the slowness: 1 normal, 1.2 slower; for example -o length_scale=1.1"),
        ("-o speed=2", "the engine piper does not know the setting “speed”",
         "did you mean “speaker”? Write -o speaker=0")]


@pytest.mark.parametrize("lang_env, warning, english", [({}, "Attention : Reprise d'un verrou laissé par le processus",
                                                         "Taking over"),
                                                        ({"LANG": "en_GB.UTF-8"}, "Warning: Taking over a stale lock "
                                                         "left by process", "Reprise")])
def test_a_build_warning_reads_in_the_operators_language(tmp_path, lang_env, warning, english):
    """A volunteer read `WARNING: Taking over a stale lock…` in a French build: the level word and the message
    now come in the operator's language."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / ".lock").write_text(f"{dead.stdout.strip()} {socket.gethostname()}\n")
    r = run(["build", str(ROOT / "tests" / "data" / "mini"), "--out", "o", "--cache", "c", "--engine", "silence"],
            lang_env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"{warning} {dead.stdout.strip()}" in r.stderr and english not in r.stderr, r.stderr
    assert "WARNING" not in r.stderr



def test_the_babel_extractor_gives_every_help_text_of_the_command_tree():
    """`pybabel extract` (babel.cfg) reads cli.py's help texts through this extractor: one it missed would stay
    English in `--help`, for good."""
    from audioguide.i18n_extract import extract_cli

    found = {m[2]: m[3] for m in extract_cli(io.BytesIO(b""), {"_": None}, [], {})}
    cat = catalogue()
    for text, where in [("Build the audio guide: MP3 chapters, whole-guide MP3, transcripts, feed and manifest.",
                         ["help of build"]),
                        ("Words per minute; wins over the pace's rate.", ["help of build"]),
                        ("Download a Piper voice by name (e.g. fr_FR-siwis-medium), check it against the catalogue, "
                         "install it.", ["help of install"])]:
        assert found.get(text) == where, text
        assert cat.get(text) is not None and cat.get(text).string, text
