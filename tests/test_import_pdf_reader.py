"""The PDF reader's child process as the import runs it, with this process's audioguide on its path: under
mutation testing, the mutant. Each PDF is also read once in this process (its limits recorded, not applied to
pytest), which is how mutmut learns that these tests cover the child's code; the imports then check the draft and
the report a volunteer gets (see tests/test_espeak_words.py, same idea)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest
import test_import_golden as golden
import test_import_hostile as hostile
import test_import_refusals as refusals

from audioguide.importers import pdf

pytestmark = pytest.mark.french


@pytest.fixture
def read_here(monkeypatch, capsys):
    """The import's child reads with this process's code; returns a reader of a PDF in this very process: its
    exit code, its JSON (or the word it prints) and the limits it asked for."""
    path = os.pathsep.join(p for p in sys.path if p)
    monkeypatch.setenv("PYTHONPATH", path)

    def read(src):
        asked = []
        with monkeypatch.context() as m:
            m.setattr(resource, "setrlimit", lambda what, limits: asked.append(what))
            # No cap here: pytest's own address space (over 1 GB late in the whole suite) would read as the
            # reader's, near its 1000 MB limit, and a damaged PDF as out of memory. The child keeps the real one.
            m.setattr(pdf, "_memory_limit", lambda: 1 << 50)
            capsys.readouterr()
            code = pdf._extract(str(src))
        out = capsys.readouterr().out.strip()
        return code, (json.loads(out) if code == 0 else out), asked
    return read


def test_a_word_processor_pdf_gives_its_draft_image_note_and_date(tmp_path, read_here):
    golden.test_a_pdf_s_lines_are_joined_back_into_headings_words_and_list_items(tmp_path)
    code, out, asked = read_here(tmp_path / "operation.pdf")
    assert code == 0 and asked == [resource.RLIMIT_AS, resource.RLIMIT_CPU]
    assert out["images"] == [[1, 1, ["Un flacon de savon."]]] and out["cids"] == 0
    first = out["pages"][0][0]
    assert (first["text"], first["size"], first["bold"]) == ("Bien se préparer à", 18.0, True)


@pytest.mark.parametrize("bookmarks", [True, False], ids=["bookmarks", "font-sizes"])
def test_an_interactive_pdf_gives_its_draft_and_its_title(tmp_path, read_here, bookmarks):
    golden.test_an_interactive_pdf_gives_this_draft_and_this_report(tmp_path, bookmarks)
    code, out, _ = read_here(tmp_path / "esante.pdf")
    assert code == 0 and out["meta"]["Title"] == "Se repérer dans la e-santé"


def test_unmapped_glyphs_are_counted_and_left_out(tmp_path, read_here):
    hostile.test_pdf_unmapped_glyphs_are_not_read_aloud(tmp_path)
    code, out, _ = read_here(tmp_path / "cid.pdf")
    assert code == 0 and out["cids"] == 2


def test_a_damaged_pdf_is_refused_in_words(tmp_path, read_here):
    refusals.test_a_damaged_pdf_is_named_with_the_cause_and_the_fix(tmp_path)
    assert read_here(tmp_path / "brochure.pdf")[:2] == (11, "PdfminerException")


def test_the_reader_caps_its_computing_time_below_a_looser_limit(tmp_path, read_here):
    """Under a shell that allows an hour of CPU, the reader still stops itself after CPU_SECONDS."""
    src = golden._pdf_lines(tmp_path / "note.pdf", [(20, "Le rendez-vous est à 9 heures.", 11, "")])
    read_here(src)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = 3600 if hard == resource.RLIM_INFINITY else min(3600, hard)
    proc = subprocess.run(
        [sys.executable, "-c", "import resource, sys\nfrom audioguide.importers import pdf\n"
         "pdf._extract(sys.argv[1])\nprint(resource.getrlimit(resource.RLIMIT_CPU)[0])", str(src)],
        capture_output=True, text=True, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CPU, (soft, hard)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[-2] == str(pdf.CPU_SECONDS)


def test_a_memory_cap_set_by_the_shell_is_kept_when_lower(read_here):
    """Under `ulimit -v` of 800 MB the reader caps itself (and names in its refusal) 800 MB; under 3 GB, 1000 MB."""
    assert pdf._memory_limit() <= pdf.MEMORY_LIMIT
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    for cap, want in ((3_000_000_000, pdf.MEMORY_LIMIT), (800_000_000, 800_000_000)):
        proc = subprocess.run([sys.executable, "-c",
                               "from audioguide.importers import pdf\nprint(pdf._memory_limit())"],
                              capture_output=True, text=True,
                              preexec_fn=lambda cap=cap: resource.setrlimit(resource.RLIMIT_AS, (cap, hard)))
        assert proc.returncode == 0 and proc.stdout == f"{want}\n", proc.stderr


def test_images_without_alternative_text_are_named_by_page_twenty_at_most():
    notes = pdf._image_notes([[page, 1, []] for page in range(1, 23)])
    assert notes == ["22 image(s) sans texte de remplacement non reprise(s), page(s) 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "
                     "11, "
                     "12, 13, 14, 15, 16, 17, 18, 19, 20, … : si l'une apporte une information, écrivez-la en une "
                     "phrase dans le brouillon."]


def test_bullets_half_a_point_bigger_start_another_list(tmp_path, read_here):
    """Another size is another list (the same size would continue it): the draft writes two lists."""
    src = golden._pdf_lines(tmp_path / "liste.pdf", [(20, "Les étapes", 11, ""), (30, "• se laver les mains", 11, ""),
                                                     (36, "• mettre le masque", 11.5, ""), (50, "Fin.", 11, "")])
    read_here(src)
    _, md = golden._imported(src, tmp_path / "out")
    assert md.endswith("\nLes étapes\n\n- se laver les mains\n\n* mettre le masque\n\nFin.\n")
