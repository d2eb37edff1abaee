"""Test helper: run Ace by DAISY on an EPUB and return its violations.

`script/bootstrap --test` installs Ace into tools/ace with `npm ci` (versions pinned by the lock file), with no
browser download. The package's plain `ace` command is its Electron runner, whose binary is never downloaded;
`ace-puppeteer` is the same checker (same rules, same report) driving a browser through puppeteer, pointed here
at Debian's chromium with PUPPETEER_EXECUTABLE_PATH. The runner itself launches it headless with --no-sandbox,
which chromium needs as root.

    from ace import ace_report, format_violations
    report = ace_report(epub, tmp_path / "ace")
    assert report["violations"] == [], format_violations(report["violations"])

Ace checks the package metadata (accessMode, accessibilityFeature, accessibilityHazard, accessibilitySummary)
and runs axe-core on every content document. Two of its own rules that catch EPUB writers (seen on
tests/test_ace_tool.py's book): `epub-type-has-matching-role` wants the ARIA role that matches each epub:type
(nav toc: role="doc-toc"), and `epub-pagesource` wants `dc:source` once there is a page-list or a pagebreak.
Of media overlays it checks only that a SMIL `par` pointing at a pagebreak says epub:type="pagebreak"
(`epub-pagelist-mediaoverlays`); the rest (timing, references) is for epubcheck and our own tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
ACE_DIR = ROOT / "tools" / "ace"
ACE = ACE_DIR / "node_modules" / ".bin" / "ace-puppeteer"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Ace's runner gives the browser 5 s to start by default: too tight on a loaded 2-core machine. A slow start
# must cost time, never a failure. The per-document limit stays Ace's own (240 s).
BROWSER_START_MS = 120_000
RUN_TIMEOUT_S = 900
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Ace's logger colours its lines even into a pipe


class AceError(Exception):
    """Ace could not run or left no readable report (a report with violations is not an error)."""


def ace_report(epub_path: Path, out_dir: Path) -> dict:
    """Run Ace on `epub_path`, leave its report.json and report.html in `out_dir`, and return:

    - `outcome`: Ace's verdict, "pass" or "fail";
    - `violations`: one dict per failed check, with `rule` (an axe-core rule id such as `image-alt`, or Ace's
      own such as `metadata-accessibilitysummary`), `impact` (minor, moderate, serious, critical), `location`
      (the file, relative to the package folder, and the element's CSS selector) and `message`;
    - `missing_metadata`: the accessibility metadata Ace looked for and did not find, violation or not;
    - `report`: the path of report.json.

    Raises AceError, with Ace's own output, if Ace is missing, fails to run or writes no report.
    """
    epub_path, out_dir = Path(epub_path), Path(out_dir)
    if not ACE.exists():
        raise AceError(f"Ace by DAISY is not installed ({ACE} is missing). "
                       "Fix: run script/bootstrap --test (it runs `npm ci` in tools/ace).")
    if CHROMIUM is None:
        raise AceError("chromium not found: Ace needs a browser. Fix: run script/bootstrap --test "
                       "(it installs Debian's chromium).")
    if not epub_path.is_file():
        raise AceError(f"{epub_path}: no such EPUB file.")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.json"
    report.unlink(missing_ok=True)  # a previous run's report must never stand in for this one
    with tempfile.TemporaryDirectory(prefix="ace-") as home:
        env = {
            **os.environ,
            "PUPPETEER_EXECUTABLE_PATH": CHROMIUM,
            "PUPPETEER_SKIP_DOWNLOAD": "1",
            "ACE_TIMEOUT_INITIAL": str(BROWSER_START_MS),
            # Ace keeps its config and one log file per run in the XDG folders: keep them out of ~, and keep
            # a user's own Ace config from changing what the tests see.
            "XDG_CONFIG_HOME": f"{home}/config", "XDG_DATA_HOME": f"{home}/data",
            "XDG_STATE_HOME": f"{home}/state", "XDG_CACHE_HOME": f"{home}/cache",
            "TMPDIR": home,  # puppeteer's browser profile too, which a failed launch leaves behind
        }
        cmd = [str(ACE), "--outdir", str(out_dir.resolve()), "--force", "--tempdir", f"{home}/tmp",
               str(epub_path.resolve())]
        try:
            proc = subprocess.run(cmd, cwd=ACE_DIR, env=env, capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise AceError(f"Ace did not finish on {epub_path} within {RUN_TIMEOUT_S} s.") from exc
    if proc.returncode != 0 or not report.is_file():
        raise AceError(f"Ace failed on {epub_path} (exit code {proc.returncode}).\n"
                       f"stdout:\n{_plain(proc.stdout)}\nstderr:\n{_plain(proc.stderr)}")
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise AceError(f"Ace wrote an unreadable report: {report}: {exc}") from exc
    return {
        "outcome": data.get("earl:result", {}).get("earl:outcome"),
        "violations": violations(data),
        "missing_metadata": data.get("a11y-metadata", {}).get("missing", []),
        "report": report,
    }


def violations(report: dict) -> list[dict]:
    """The failed checks of an Ace report.json (EARL: one group of assertions per checked file)."""
    found = []
    for doc in report.get("assertions", []):
        url = doc.get("earl:testSubject", {}).get("url", "?")
        for a in doc.get("assertions", []):
            result = a.get("earl:result", {})
            if result.get("earl:outcome") != "fail":
                continue
            test = a.get("earl:test", {})
            css = result.get("earl:pointer", {}).get("css") or []
            lines = (line.strip() for line in result.get("dct:description", "").splitlines())
            found.append({"rule": test.get("dct:title", "?"), "impact": test.get("earl:impact", "?"),
                          "location": " ".join([url, *css]), "message": "; ".join(line for line in lines if line)})
    return found


def format_violations(violations: list[dict]) -> str:
    """One line per violation, for an assertion message."""
    return "\n".join(f"[{v['impact']}] {v['rule']} at {v['location']}: {v['message']}" for v in violations) \
        or "no violations"


def _plain(log: str) -> str:
    return ANSI.sub("", log)[-3000:].strip()
