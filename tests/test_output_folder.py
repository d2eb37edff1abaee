"""The output folder as one object: lock, ownership journal and atomic writes; files.py and lock.py no longer
import each other."""

import ast
from pathlib import Path

import pytest

from audioguide.exceptions import LockError
from audioguide.files import OWNERSHIP_NAME
from audioguide.output import OutputFolder

SRC = Path(__file__).parent.parent / "src" / "audioguide"


def imports(module: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(module.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_files_and_lock_do_not_import_each_other_both_ways():
    assert "audioguide.lock" not in imports(SRC / "files.py")


def test_a_folder_is_locked_while_open_and_records_what_is_written_through_it(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out, "g") as folder:
        with pytest.raises(LockError):
            with OutputFolder(out, "g"):
                pass
        with folder.recording(("a",)):
            assert folder.update("a/x.txt", b"one")
            assert not folder.update("a/x.txt", b"one")  # unchanged: not written again
            with folder.atomic("b.txt") as tmp:
                tmp.write_bytes(b"two")
    assert (out / "a" / "x.txt").read_bytes() == b"one" and (out / "b.txt").read_bytes() == b"two"
    journal = (out / OWNERSHIP_NAME).read_text("utf-8")
    assert "a/x.txt" in journal and "b.txt" in journal
    with OutputFolder(out, "g"):  # released
        pass


def test_a_closed_folder_refuses_to_say_its_owner(tmp_path):
    with pytest.raises(RuntimeError, match="not open"):
        _ = OutputFolder(tmp_path, "g").owner
