"""The import graph of src/audioguide, read from the source (every import, lazy ones too): no circle between
modules, and no arrow from a stage up to a later one. The stages, bottom to top, are the folders of the
README's "Layout": guide -> narration -> speech -> assembly -> publishers -> build -> the commands. The build
sits above the publishers because it runs them; what publishers read of a build (audio, timing) is assembly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "audioguide"

# Module (or package) -> stage; the longest matching name wins. A module may import its own stage and the
# stages below, never one above. A new top-level module or folder must be placed here.
STAGES = ["foundation", "guide", "narration", "speech", "assembly", "publishers", "build", "commands"]
LAYERS = {
    # Read by every stage: errors, settings, the output folder's files and lock, the web address rule.
    "audioguide": "foundation",
    "audioguide.exceptions": "foundation",
    "audioguide.config": "foundation",
    "audioguide.files": "foundation",
    "audioguide.lock": "foundation",
    "audioguide.web": "foundation",
    "audioguide.i18n": "foundation",
    # The guide stage: a guide file to a checked Guide. Importers turn other documents into guide files.
    "audioguide.guide": "guide",
    "audioguide.importers": "guide",
    # The text rules the guide is checked against live with the narration that renders them, but read nothing
    # above the guide: the inline markup (the Markdown reader uses its parser) and the lexicon's own rules.
    "audioguide.narration.inline": "guide",
    "audioguide.narration.lexicon": "guide",
    "audioguide.narration.tables": "guide",
    "audioguide.narration": "narration",
    "audioguide.tts": "speech",
    "audioguide.recordings": "assembly",  # recorded pages: decoded, levelled and aligned like the clips they replace
    # What a build makes and publishers read: the audio, its timing, the phone menu and its prompts.
    "audioguide.audio": "assembly",
    "audioguide.speaker": "assembly",  # narrates and voices prompts for the builder, the phone and the studio
    "audioguide.timing": "assembly",
    "audioguide.phone": "assembly",
    "audioguide.publishers": "publishers",
    # The build runs the stages and the publishers; the catalogue builds several guides.
    "audioguide.build": "build",
    "audioguide.freshness": "build",
    "audioguide.catalogue": "build",
    "audioguide.preview": "build",
    "audioguide.cli": "commands",
    "audioguide.i18n_extract": "commands",  # Babel reads the commands through it
    "audioguide.__main__": "commands",
    "audioguide.serve": "commands",
    "audioguide.studio": "commands",
}
# Known circles, each to be removed by the change that owns it; delete its entry then.
KNOWN_CIRCLES = [
    # TODO(imports): the package picks a reader, each reader takes Document/Element back from the package.
    {"audioguide.importers", "audioguide.importers.docx", "audioguide.importers.html", "audioguide.importers.pdf"},
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The audioguide modules a module imports: `from a.b import c` is a.b.c when c is a module, else a.b."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def stage(name: str) -> str | None:
    key = max((k for k in LAYERS if name == k or name.startswith(k + ".")), key=len, default=None)
    return LAYERS[key] if key else None


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def upward(edges: dict[str, set[str]]) -> list[str]:
    return [f"{a} ({stage(a)}) imports {b} ({stage(b)})" for a in sorted(edges) for b in sorted(edges[a])
            if STAGES.index(stage(b)) > STAGES.index(stage(a))]


def test_every_module_has_a_stage():
    assert [m for m in modules() if stage(m) is None] == []


def test_no_import_circle():
    found = [c for c in circles(graph()) if set(c) not in KNOWN_CIRCLES]
    assert found == [], "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_upward_import():
    assert upward(graph()) == []


@pytest.mark.parametrize("source, target", [("audioguide.guide.model", "audioguide.narration.script"),
                                            ("audioguide.tts.base", "audioguide.publishers.mp3")])
def test_an_added_upward_import_is_caught(source, target):
    edges = graph()
    edges[source].add(target)
    assert upward(edges) == [f"{source} ({stage(source)}) imports {target} ({stage(target)})"]


def test_an_added_circle_is_caught():
    edges = graph()
    edges["audioguide.guide.rules"].add("audioguide.guide.parse")  # parse -> rules exists already
    assert [c for c in circles(edges) if set(c) not in KNOWN_CIRCLES] == \
        [["audioguide.guide.checks", "audioguide.guide.parse", "audioguide.guide.rules"]]
