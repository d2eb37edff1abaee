"""YAML <-> Markdown guides, losslessly: the written file parses to the same Guide as its source.

Works on the raw tree, not the Guide, so keys this module does not know (levels, pace…) travel as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from audioguide.exceptions import GuideError, Problem
from audioguide.files import write_text
from audioguide.guide.load import MARKDOWN_SUFFIXES, load_guide, load_source
from audioguide.guide.markdown import parse_markdown, slug
from audioguide.guide.model import CALLOUTS, Guide
from audioguide.guide.parse import parse_guide
from audioguide.guide.yamlsrc import Raw, parse_yaml
from audioguide.i18n import _

Node = Mapping[str, Raw]  # a part, chapter or page of the raw tree

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

STRUCTURE = ("intro", "parts", "chapters")


def plain(value: Raw) -> Raw:
    """YMap/YList trees as plain dicts and lists, which yaml.safe_dump can write."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def dump_yaml(data: Raw) -> str:
    return yaml.safe_dump(plain(data), allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)


# --- Markdown writing ------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(#?\w+;)")
_LINE_START = re.compile(r"^(\s*)([-+=>#~]|\d+(?=[.)]))")


def escape(text: str, heading: bool = False) -> str:
    """Text that CommonMark reads back as exactly this text (newlines become hard breaks)."""
    out = []
    for line in text.split("\n"):
        line = re.sub(r"([\\`*_\[\]<])", r"\\\1", line)
        line = _ENTITY.sub(r"\\&\1", line)
        if heading:
            line = line.replace("#", "\\#").replace("{", "\\{")
        m = _LINE_START.match(line)
        if m:
            lead = m.group(2)
            line = m.group(1) + (lead + "\\" if lead[0].isdigit() else "\\" + lead) + line[m.end():]
        out.append(line)
    return "\\\n".join(out)


def _url(url: str) -> str:
    return f"<{url}>" if re.search(r"[\s()<>\\]", url) else url


def _next_free(base: str, seen: set[str]) -> str:
    out, n = base, 1
    while out in seen:
        n += 1
        out = f"{base[:60]}-{n}"
    return out


class _Writer:
    def __init__(self, file: str):
        self.file = file
        self.lines: list[str] = []
        self.part_ids: set[str] = set()
        self.chapter_ids: set[str] = set()

    def heading(self, level: int, node: Node, seen: set[str], fallback: str, classes: str = "",
                skip: tuple[str, ...] = ("id", "title")) -> None:
        title, nid = str(node.get("title", "")), str(node.get("id", ""))
        attrs = []
        if _next_free(slug(title, fallback), seen) != nid:
            attrs.append(f"#{nid}")
        seen.add(nid)
        if classes:
            attrs.append(classes)
        for key, value in node.items():
            if key in skip:
                continue
            if not isinstance(value, str):
                raise GuideError([Problem(self.file, None, None, f"{nid}.{key}",
                                          _("this value cannot be written in Markdown"),
                                          _("keep this guide in YAML"))])
            attrs.append(f"{key}={json.dumps(value, ensure_ascii=False)}")
        trailer = f" {{{' '.join(attrs)}}}" if attrs else ""
        self.lines += ["#" * level + " " + escape(title, heading=True) + trailer, ""]

    def chapter(self, level: int, ch: Node, classes: str = "") -> None:
        self.heading(level, ch, self.chapter_ids, "chapitre", classes, skip=("id", "title", "pages", "description"))
        if isinstance(ch.get("description"), str):
            for para in ch["description"].split("\n\n"):
                self.lines += [escape(para.strip("\n")), ""]
        seen: set[str] = set()
        for page in ch.get("pages") or []:
            self.heading(level + 1, page, seen, "page", skip=("id", "title", "blocks", "narration"))
            for block, bullet in _bullets(page.get("blocks") or []):
                self.lines += self.block(block, level + 2, bullet) + [""]
            if isinstance(page.get("narration"), str):
                text = page["narration"]
                fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
                self.lines += [fence + "narration", *text.split("\n"), fence, ""]

    def block(self, block: Raw, heading_level: int, bullet: str = "-") -> list[str]:
        if isinstance(block, str):
            return [escape(block)]
        (kind, value), = block.items()
        if kind == "p":
            return [escape(value)]
        if kind == "heading":
            return ["#" * min(heading_level, 6) + " " + escape(value, heading=True)]
        if kind == "list":
            return [f"{bullet} " + escape(item).replace("\\\n", "\\\n  ") for item in value]
        if kind == "link":
            return [f"[{escape(value['label'])}]({_url(value['url'])})"]
        label = f"**{CALLOUTS[kind]} :**"
        children = [{"p": value}] if isinstance(value, str) else list(value)
        lines = [label]
        first = children[0]
        if isinstance(first, str) or "p" in first:
            lines = [label + " " + self.block(first, heading_level)[0].replace("\\\n", "\\\n  ")]
            children = children[1:]
        for child, bullet in _bullets(children):
            lines += [""] + self.block(child, heading_level, bullet)
        return ["> " + line if line else ">" for line in "\n".join(lines).split("\n")]


def _bullets(blocks: list[Raw]) -> Iterator[tuple[Raw, str]]:
    """Each block with its list marker: CommonMark joins two lists in a row unless their markers differ."""
    bullet = "*"
    for i, block in enumerate(blocks):
        follows_list = i > 0 and isinstance(blocks[i - 1], dict) and "list" in blocks[i - 1]
        bullet = ("-" if bullet == "*" else "*") if follows_list else "-"
        yield block, bullet


def to_markdown(data: Node, file: str = "") -> str:
    """A guide's raw tree (from YAML) as a Markdown guide."""
    w = _Writer(file)
    front = {k: v for k, v in data.items() if k not in STRUCTURE}
    depth = 2 if data.get("chapters") is not None and data.get("parts") is None else 3
    front["depth"] = depth
    w.lines += ["---", *dump_yaml(front).rstrip("\n").split("\n"), "---", ""]
    if isinstance(data.get("intro"), dict):
        w.chapter(2 if depth == 3 else 1, data["intro"], ".intro" if depth == 2 else "")
    for part in data.get("parts") or []:
        w.heading(1, part, w.part_ids, "partie", skip=("id", "title", "chapters"))
        for ch in part.get("chapters") or []:
            w.chapter(2, ch)
    for ch in data.get("chapters") or []:
        w.chapter(1, ch)
    while w.lines and not w.lines[-1]:
        w.lines.pop()
    return "\n".join(w.lines) + "\n"


def guide_signature(guide: Guide) -> dict[str, Raw]:
    """Everything a Guide holds, as plain data, minus where it was read from (for lossless comparisons)."""
    skip = ("part", "path", "line", "description_line")

    def fields(x: DataclassInstance) -> dict[str, Raw]:
        return {k: walk(getattr(x, k)) for k in x.__dataclass_fields__ if k not in skip}

    def walk(x: object) -> Raw:
        if is_dataclass(x) and not isinstance(x, type):
            return fields(x)
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        return x
    return fields(guide)


def convert(src: Path, dst: Path) -> str:
    """Write SRC (YAML or Markdown guide) as DST in the other format, after checking that DST reads back as the
    same guide. Returns the format written."""
    guide = load_guide(src)
    assert guide.path is not None  # load_guide always says which file it read
    data = load_source(guide.path, str(guide.path))
    to_md = dst.suffix.lower() in MARKDOWN_SUFFIXES
    if not to_md and dst.suffix.lower() not in (".yaml", ".yml"):
        raise GuideError([Problem(str(dst), None, None, "", _("unknown output format"),
                                  _("name the output file guide.md (Markdown) or guide.yaml (YAML)"))])
    text = to_markdown(data, str(src)) if to_md else dump_yaml(data)
    back = parse_markdown(text, str(dst)) if to_md else parse_yaml(text, str(dst))
    again = parse_guide(back, str(dst), guide.id)
    again.path = guide.path
    if guide_signature(again) != guide_signature(guide):
        raise GuideError([Problem(str(src), None, None, "",
                                  _("this guide cannot be converted without losing something"),
                                  _("please report it; meanwhile keep the guide in its current format"))])
    if dst.exists():
        raise GuideError([Problem(str(dst), None, None, "", _("the output file already exists"),
                                  _("choose another name, or move the old file away first"))])
    write_text(dst, text)  # a fresh temp file renamed: a link planted in the folder redirects nothing
    return "Markdown" if to_md else "YAML"

