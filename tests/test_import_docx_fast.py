"""Word files a word processor other than Word may write, read in a fraction of a second each: a document without a
default paragraph style, a table row deleted with tracked changes, parts that declare more than the import reads."""

from __future__ import annotations

import zipfile

import docx
import pytest
from test_import_golden import _imported
from test_import_hostile import rewrite_part
from test_import_refusals import refusal

pytestmark = pytest.mark.french


def test_a_document_without_a_default_paragraph_style_is_read(tmp_path):
    d = docx.Document()
    d.add_heading("Le vaccin", 1)
    d.add_paragraph("Il protège.")
    d.save(tmp_path / "sans-style.docx")
    rewrite_part(tmp_path / "sans-style.docx", "word/styles.xml", lambda xml: xml.replace(b'w:default="1"', b""))
    _, md = _imported(tmp_path / "sans-style.docx", tmp_path / "out")
    assert md.endswith("\n## Le vaccin\n\nIl protège.\n")


def test_a_table_row_deleted_with_tracked_changes_is_left_out(tmp_path):
    d = docx.Document()
    d.add_heading("Le vaccin", 1)
    d.add_paragraph("Les doses :")
    table = d.add_table(rows=3, cols=2)
    for i, row in enumerate([("Âge", "Dose"), ("Enfant", "Deux doses"), ("65 ans", "Une dose")]):
        for c, text in enumerate(row):
            table.cell(i, c).text = text
    d.save(tmp_path / "relu.docx")
    gone = b'<w:trPr><w:del w:id="9" w:author="A" w:date="2024-01-01T00:00:00Z"/></w:trPr>'
    rewrite_part(tmp_path / "relu.docx", "word/document.xml",
                 lambda xml: xml.replace(b"<w:tr>", b"\0", 2).replace(b"\0", b"<w:tr>", 1).replace(b"\0", b"<w:tr>"
                                                                                                    + gone))
    report, md = _imported(tmp_path / "relu.docx", tmp_path / "out")
    assert "Enfant" not in md and md.endswith("Les doses :\n\nÂge ; Dose\n\n65 ans ; Une dose\n")
    assert "- Le document a 1 modification(s) suivie(s) (révisions)" in report
    assert "ses 2 ligne(s) sont devenues des paragraphes" in report


def _word_file_with_parts(src, parts: dict[str, bytes]) -> bytearray:
    """A one-paragraph Word file at SRC with PARTS added (parts Word never shows); its bytes, to be patched."""
    d = docx.Document()
    d.add_paragraph("Texte.")
    d.save(src)
    with zipfile.ZipFile(src, "a") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return bytearray(src.read_bytes())


def test_a_document_declaring_more_than_300_mb_in_all_is_refused_with_its_size(tmp_path):
    """Eight parts that each declare 40 MB (each under its own limit): the sum is refused, with the figures."""
    src = tmp_path / "lourd.docx"
    raw = _word_file_with_parts(src, {f"customXml/lourd{n}.xml": b"<a/>" for n in range(8)})
    pos = raw.find(b"PK\x01\x02")
    while pos != -1:  # the central directory's uncompressed sizes, which the import checks first
        n = int.from_bytes(raw[pos + 28:pos + 30], "little")
        if raw[pos + 46:pos + 46 + n].startswith(b"customXml/lourd"):
            raw[pos + 24:pos + 28] = (39_000_000).to_bytes(4, "little")
        pos = raw.find(b"PK\x01\x02", pos + 46)
    src.write_bytes(bytes(raw))
    assert refusal(tmp_path, src) == (
        "Erreur : lourd.docx : le document ferait 313 Mo une fois décompressé ; l'import lit 300 Mo au plus.\n"
        "Cause probable : le fichier est endommagé, ou fait exprès pour saturer la mémoire\n"
        "Solution : ouvrez-le dans Word ou LibreOffice et enregistrez-le à nouveau en .docx ; s'il est vraiment si "
        "gros, coupez-le en plusieurs documents\n")


def test_a_part_that_fails_its_check_is_refused_even_if_word_never_shows_it(tmp_path):
    """Every part is inflated and checked before reading, not only those the import reads: a damaged file is named."""
    src = tmp_path / "abime.docx"
    raw = _word_file_with_parts(src, {"customXml/abime.xml": b"<a>" + b"x" * 3000 + b"</a>"})
    pos = raw.find(b"PK\x01\x02")
    while pos != -1:  # the part's CRC in the central directory, which reading checks it against
        n = int.from_bytes(raw[pos + 28:pos + 30], "little")
        if raw[pos + 46:pos + 46 + n] == b"customXml/abime.xml":
            raw[pos + 16:pos + 20] = (int.from_bytes(raw[pos + 16:pos + 20], "little") ^ 1).to_bytes(4, "little")
        pos = raw.find(b"PK\x01\x02", pos + 46)
    src.write_bytes(bytes(raw))
    assert refusal(tmp_path, src).startswith(
        "Erreur : Impossible de lire abime.docx comme un document Word (BadZipFile).\n")
