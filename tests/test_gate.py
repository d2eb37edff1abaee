"""The gate script/test runs before the tests: ruff and mypy, pinned, configured in pyproject.toml."""

import re
import tomllib

from conftest import ROOT as REPO


def test_script_test_runs_the_gate_before_the_tests():
    lines = [line for line in (REPO / "script" / "test").read_text().splitlines() if not line.startswith("#")]
    body = "\n".join(lines)
    assert body.index("script/lint") < body.index("pytest")
    lint = (REPO / "script" / "lint").read_text()
    assert ".venv/bin/ruff check" in lint and ".venv/bin/mypy" in lint
    assert (REPO / ".ci" / "run").read_text().rstrip().endswith("script/test")


def test_the_gate_tools_are_pinned_and_installed_only_for_tests():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lint = project["optional-dependencies"]["lint"]
    for tool in ("ruff", "mypy"):
        assert any(re.fullmatch(rf"{tool}==[\d.]+", req) for req in lint), (tool, lint)
    bootstrap = (REPO / "script" / "bootstrap").read_text()
    assert 'target=".[test,lint]"' in bootstrap and 'target=".[import]"' in bootstrap


def test_click_range_is_declared_and_feedgen_is_gone():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(re.fullmatch(r"click>=8\.1\.\d+,<9", d) for d in deps), deps
    assert not any(d.startswith("feedgen") for d in deps)


def test_mypy_is_strict_on_the_typed_seams():
    mypy = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]
    strict = [o for o in mypy["overrides"] if o.get("disallow_untyped_defs")]
    assert len(strict) == 1
    assert {"audioguide.timing", "audioguide.guide.*", "audioguide.publishers"} <= set(strict[0]["module"])
