"""The build's log and refusals in the operator's language, French by default (issue 26 §2); the phone bundle's
README stays French whatever it is, since a build's bytes never depend on the machine (test_phone_bundle.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from audioguide.cli import cli

from conftest import needs_tools

pytestmark = pytest.mark.french


def run(guide, out, cache, *extra: str):
    res = CliRunner().invoke(cli, ["build", str(guide), "--out", str(out), "--cache", str(cache), "--engine",
                                   "silence", "--jobs", "1", *extra])
    assert "Traceback" not in res.output, res.output
    return res


def test_an_output_folder_holding_the_guide_is_refused_in_french(tmp_path, mini_guide):
    res = run(mini_guide, mini_guide, tmp_path / "c")
    assert res.exit_code == 2, res.output
    assert f"Dossier de sortie {mini_guide} : refusé, car il contient le guide lui-même" in res.output, res.output
    assert "Cause probable : une construction y écrit audio/, transcripts/, phone/…" in res.output
    assert "Solution : choisissez un dossier nouveau ou vide avec --out" in res.output
    assert "refused" not in res.output and "Fix:" not in res.output


def test_a_folder_with_foreign_files_is_refused_in_french(tmp_path, mini_guide):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("à moi", "utf-8")
    res = run(mini_guide, out, tmp_path / "c")
    assert res.exit_code == 2, res.output
    assert (f"Le dossier de sortie {out} contient des fichiers qu'aucune construction audioguide de ce guide "
            "n'a enregistrés : notes.txt.") in res.output, res.output
    assert "ajoutez --allow-foreign-files" in res.output
    assert (out / "notes.txt").read_text("utf-8") == "à moi" and sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@needs_tools
def test_the_build_log_is_in_french(tmp_path, mini_guide, caplog):
    """A build's log (its clip count and its warning about the feed's address), and a rebuild with nothing to
    do, in French; the summary the command prints too."""
    out, cache = tmp_path / "out", tmp_path / "c"
    with caplog.at_level("INFO"):
        first = run(mini_guide, out, cache)
    assert first.exit_code == 0, first.output
    assert "extraits synthétisés" in first.output, first.output
    log = caplog.text
    assert "Aucune adresse web de publication : le flux du podcast pointe vers" in log, log
    assert "extraits de voix synthétisés (0 repris du cache)." in log, log
    caplog.clear()
    with caplog.at_level("INFO"):
        again = run(mini_guide, out, cache)
    assert again.exit_code == 0, again.output
    assert "Rien n'a changé depuis la dernière construction" in caplog.text, caplog.text
    assert "Synthesised" not in log and "Nothing changed" not in caplog.text and "No base URL" not in log


def test_an_engine_that_cannot_run_is_explained_in_french(monkeypatch):
    """An engine's refusal (here espeak-ng missing from the PATH) with its cause and fix in French."""
    from audioguide.config import BuildSettings
    from audioguide.exceptions import EngineError
    from audioguide.tts import get_engine

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EngineError) as exc:
        get_engine("espeak", BuildSettings()).check()
    assert str(exc.value) == ("Le moteur espeak ne peut pas fonctionner ici.\n"
                              "Cause probable : espeak-ng n'est pas installé.\n"
                              "Solution : installez-le avec : apt-get install espeak-ng (ou lancez script/bootstrap)")
