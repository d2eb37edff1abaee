"""Babel's extractor for cli.py (babel.cfg), apart from i18n.py: it reads the commands themselves, and i18n sits
at the bottom of the layers, below the commands it would have to import (tests/test_layout.py)."""

from __future__ import annotations


def extract_cli(fileobj, keywords, comment_tags, options):  # type: ignore[no-untyped-def]
    """Babel extractor for cli.py (babel.cfg): its `_()` calls, and the help texts click reads from docstrings and
    `help=`, which no keyword marks."""
    import inspect

    from babel.messages.extract import extract_python

    yield from extract_python(fileobj, keywords, comment_tags, options)
    from audioguide.cli import cli

    def walk(cmd):  # type: ignore[no-untyped-def]
        for obj in [cmd, *cmd.params]:
            for attr in ("help", "short_help"):
                text = getattr(obj, "_msgid_" + attr, None) or getattr(obj, attr, None)
                if text:
                    yield 0, None, inspect.cleandoc(text), [f"help of {cmd.name}"]
        for sub in getattr(cmd, "commands", {}).values():
            yield from walk(sub)

    yield from walk(cli)
