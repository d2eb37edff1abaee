"""Markdown guides: YAML front matter for the details, headings for the levels, CommonMark for the text.

    ---                                   # details, as in guide.yaml (title, publisher, date, lexicon…)
    title: Se faire vacciner contre la grippe
    depth: 2                              # 2: `#` chapter, `##` page; 3 (default with `###`): `#` part too
    ---
    # Pourquoi se faire vacciner {#pourquoi menu_label="savoir pourquoi se vacciner"}
    Une phrase sous le titre d'un chapitre est sa description.
    ## Les risques                        # a page; its id comes from the title: les-risques
    Un paragraphe, une liste, un [lien](https://www.ameli.fr/) seul sur sa ligne.
    > **Attention :** un encadré, écrit comme on l'écrit en Markdown.
    ### Un intertitre                     # deeper headings are headings inside the page
    ```narration
    Texte dit à la place de la page, tel quel.
    ```

Parsed with markdown-it-py (CommonMark); only the `{…}` after a heading is read by hand. Text keeps its
inline markup (bold, italics, links), read later as YAML text is (narration.inline).
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from markdown_it.token import Token

from audioguide.exceptions import GuideError, Problem
from audioguide.guide.yamlsrc import Mark, Raw, YList, YMap, parse_yaml
from audioguide.i18n import N_, _
from audioguide.narration.inline import parser, plain_tokens, source

# Callout labels people write, folded to lowercase ASCII: the block kind they mean.
CALLOUT_LABELS = {
    "attention": "attention", "avertissement": "attention", "warning": "attention", "caution": "attention",
    "bon a savoir": "bon-a-savoir", "astuce": "bon-a-savoir", "conseil": "bon-a-savoir", "tip": "bon-a-savoir",
    "a noter": "a-noter", "note": "a-noter", "exemple": "exemple", "example": "exemple",
    "important": "important",
}
# GitHub's alert syntax (`> [!NOTE]`) maps onto the same kinds.
ALERTS = {"NOTE": "a-noter", "TIP": "bon-a-savoir", "IMPORTANT": "important", "WARNING": "attention",
          "CAUTION": "attention"}
STRUCTURE_KEYS = ("intro", "parts", "chapters")
# What a heading of each level is, by the guide's depth (index: the number of #, less one).
_LEVEL_NAMES = {2: (N_("a topic"), N_("a page")), 3: (N_("a part"), N_("a topic"), N_("a page"))}
_ATTRS = re.compile(r'(?<!\\)\{((?:[^{}"\\]|"(?:[^"\\]|\\.)*")*)\}\s*$')
_ATTR = re.compile(r'\s*(?:#([\w-]+)|\.([\w-]+)|(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]+))')


def slug(title: str, fallback: str = "page") -> str:
    """The id a title gets when none is written: lowercase ASCII words joined by hyphens."""
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:64].strip("-")
    return s or fallback


def fold(text: str) -> str:
    """Lowercase ASCII words: how labels and headings are compared, whatever their accents and punctuation."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]+", " ", ascii_.lower()).strip()


def read_source(path: Path, display: str) -> str:
    """Strict UTF-8 text; unlike YAML, Markdown may indent with tabs, so only the encoding is checked."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GuideError([Problem(display, None, None, "",
                                  _("cannot read the file ({error})").format(error=exc.strerror),
                                  _("check the path and the file's permissions"))]) from None
    try:
        return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise GuideError([Problem(display, line, None, "", _("the file is not valid UTF-8"),
                                  _("re-save it as UTF-8 (\"Unicode (UTF-8)\" in the editor's Save as)"))]) from None


def load_markdown(path: Path, display: str | None = None) -> YMap:
    """Read a Markdown guide into the raw tree `parse_guide` validates; raise GuideError with .md lines."""
    display = display or str(path)
    return parse_markdown(read_source(path, display), display)


def parse_markdown(text: str, display: str) -> YMap:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise GuideError([Problem(display, 1, 1, "",
                                  _("a Markdown guide starts with its details between two `---` lines"),
                                  _("put at the top:") + "\n      ---\n      title: Le titre du guide\n"
                                  "      publisher: Votre association\n      ---")])
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise GuideError([Problem(display, 1, 1, "", _("the details at the top are opened by `---` but never closed"),
                                  _("add a line `---` after the last detail (after `title:`, `date:`…)"))])
    # A blank first line keeps the front matter's line numbers equal to the file's.
    front = parse_yaml("\n" + "\n".join(lines[1:end]), display) if "\n".join(lines[1:end]).strip() else YMap()
    if not isinstance(front, YMap):
        raise GuideError([Problem(display, 2, 1, "", _("the details at the top must be `key: value` lines"),
                                  _("write e.g. `title: Le titre du guide`"))])
    if not hasattr(front, "key_marks"):
        front.mark, front.key_marks, front.value_marks = (1, 1), {}, {}
    body = "\n".join(lines[end + 1:])
    return _Reader(display, end + 1, front).read(body)


# A block as read: (kind, value, mark), e.g. ("p", "Un paragraphe.", (12, 1)).
Made = tuple[str, Raw, Mark]


def _ymap(mark: Mark, *pairs: tuple[str, Raw, Mark]) -> YMap:
    m = YMap()
    m.mark, m.key_marks, m.value_marks = mark, {}, {}
    for key, value, vmark in pairs:
        m[key], m.key_marks[key], m.value_marks[key] = value, vmark, vmark
    return m


def _ylist(mark: Mark) -> YList:
    y = YList()
    y.mark, y.item_marks = mark, []
    return y


def _add(y: YList, value: Raw, mark: Mark) -> None:
    y.append(value)
    y.item_marks.append(mark)


class _Reader:
    def __init__(self, file: str, offset: int, front: YMap):
        self.file, self.offset, self.front = file, offset, front
        self.problems: list[Problem] = []
        self.md = parser()
        self.part: YMap | None = None
        self.chapter: YMap | None = None
        self.page: YMap | None = None
        self.page_problems = 0
        self.part_ids: set[str] = set()
        self.chapter_ids: set[str] = set()
        self.page_ids: dict[int, set[str]] = {}

    def mark(self, tok: Token, col: int = 1) -> tuple[int, int]:
        return (self.offset + (tok.map[0] if tok.map else 0) + 1, col)

    def problem(self, tok: Token | None, message: str, fix: str | None = None, field: str = "") -> None:
        line, col = self.mark(tok) if tok is not None else (None, None)
        self.problems.append(Problem(self.file, line, col, field, message, fix))

    def read(self, body: str) -> YMap:
        depth = self.front.pop("depth", None)
        tokens = self.md.parse(body)
        if depth is None:
            depth = 3 if any(t.type == "heading_open" and t.tag == "h3" for t in tokens) else 2
        elif depth not in (2, 3):
            self.problems.append(Problem(self.file, self.front.value_marks.get("depth", (1, 1))[0], None, "depth",
                                         _("depth must be 2 or 3, not {depth!r}").format(depth=depth),
                                         _("2: `#` chapters and `##` pages; 3: `#` parts, `##` chapters, `###` "
                                           "pages")))
            depth = 3
        self.depth = depth
        if skipped := skipped_levels(self, tokens):  # what follows such a jump would only repeat it
            raise GuideError(skipped)
        for key in STRUCTURE_KEYS:
            if key in self.front:
                self.problem(None, _("`{key}:` cannot be in the details of a Markdown guide").format(key=key),
                             _("write parts, chapters and pages as headings under the `---` line"), key)
        self.top = self.front
        self.parts = _ylist((self.offset + 1, 1))
        self.chapters = _ylist((self.offset + 1, 1))
        i = 0
        while i < len(tokens):
            i = self.block(tokens, i)
        self.close_page()
        if self.depth == 3:
            self.top["parts"], self.top.value_marks["parts"] = self.parts, self.parts.mark
            self.top.key_marks["parts"] = self.parts.mark
        else:
            self.top["chapters"], self.top.value_marks["chapters"] = self.chapters, self.chapters.mark
            self.top.key_marks["chapters"] = self.chapters.mark
        if self.problems:
            # Report the guide's other problems too (a missing `publisher:`…), so one run shows them all.
            from audioguide.guide.parse import parse_guide

            try:
                parse_guide(self.top, self.file, "guide")
            except GuideError as exc:
                self.problems += [p for p in exc.problems if p not in self.problems]
            raise GuideError(sorted(self.problems, key=lambda p: (p.line or 0, p.column or 0)))
        return self.top

    # --- structure ----------------------------------------------------------------------------

    def block(self, tokens: list[Token], i: int) -> int:
        tok = tokens[i]
        if tok.type == "heading_open":
            level = int(tok.tag[1:])
            role = {1: "part", 2: "chapter", 3: "page"}.get(level + (3 - self.depth), "heading")
            if role == "heading":
                self.content(("heading", self.text(tokens[i + 1]), self.mark(tok)), tok)
            else:
                getattr(self, "open_" + role)(tok, tokens[i + 1])
            return i + 3
        end = _closing(tokens, i)
        if tok.type == "paragraph_open" and self.page is None and self.chapter is not None:
            desc = self.plain(tokens[i + 1])
            old = self.chapter.get("description")
            self.chapter["description"] = f"{old}\n\n{desc}" if old else desc
            self.chapter.value_marks["description"] = self.mark(tok)
            self.chapter.key_marks["description"] = self.mark(tok)
            return end + 1
        if tok.type == "hr":
            return i + 1
        if tok.type == "fence" and tok.info.strip() == "narration":
            if self.page is None:
                self.problem(tok, _("hand-written narration outside a page"),
                             _("put the ```narration block under a page heading"))
            else:
                self.page["narration"] = tok.content[:-1] if tok.content.endswith("\n") else tok.content
                self.page.value_marks["narration"] = self.page.key_marks["narration"] = self.mark(tok)
            return i + 1
        made = self.blocks(tokens[i:end + 1], callout_ok=True)
        for b in made:
            self.content(b, tok)
        return end + 1

    def content(self, made: Made, tok: Token) -> None:
        if self.page is None:
            self.problem(tok, _("text before the first page") if self.chapter is not None
                         else _("text before the first chapter"),
                         _("put it under a page heading ({heading}); under a chapter heading, only description "
                           "paragraphs may come before its first page").format(heading=f"`{'#' * self.depth} Titre`"))
            return
        kind, value, mark = made
        _add(self.page["blocks"], _ymap(mark, (kind, value, mark)), mark)

    def heading(self, tok: Token, inline: Token, fallback: str, seen: set[str]) -> tuple[YMap, dict[str, set[str]]]:
        """Title, id and `{#id .intro key="value"}` attributes of a structure heading."""
        content, attrs, classes, problems = _heading_attrs(inline.content)
        for message, fix in problems:
            self.problem(tok, message, fix)
        title = plain_tokens(self.md.parseInline(content)[0].children, addresses=False).strip() if content else ""
        mark = self.mark(tok)
        if not title:
            self.problem(tok, _("a heading without a title"), _("write the title after the #"))
        if "id" not in attrs:  # the title's slug, numbered if a sibling already has it
            base = slug(title, fallback)
            attrs["id"], n = base, 1
            while attrs["id"] in seen:
                n += 1
                attrs["id"] = f"{base[:60]}-{n}"
        seen.add(attrs["id"])
        m = _ymap(mark, ("id", attrs.pop("id"), mark), ("title", title, mark))
        for key, value in attrs.items():
            m[key], m.key_marks[key], m.value_marks[key] = value, mark, mark
        return m, {"classes": classes}

    def close_page(self) -> None:
        page, self.page = self.page, None
        # A page whose only text was refused is not reported empty on top of that.
        if page is not None and not page["blocks"] and "narration" not in page and \
                len(self.problems) == self.page_problems:
            self.problems.append(Problem(self.file, page.mark[0], page.mark[1], "",
                                         _("empty page {title!r}").format(title=page["title"]),
                                         _("write its text under the heading, or remove the heading")))

    def open_part(self, tok: Token, inline: Token) -> None:
        self.close_page()
        m, _attrs = self.heading(tok, inline, "partie", self.part_ids)
        m["chapters"] = _ylist(m.mark)
        m.key_marks["chapters"] = m.value_marks["chapters"] = m.mark
        _add(self.parts, m, m.mark)
        self.part, self.chapter = m, None

    def open_chapter(self, tok: Token, inline: Token) -> None:
        self.close_page()
        m, extra = self.heading(tok, inline, "chapitre", self.chapter_ids)
        m["pages"] = _ylist(m.mark)
        m.key_marks["pages"] = m.value_marks["pages"] = m.mark
        intro = "intro" in extra["classes"] or (self.depth == 3 and self.part is None)
        if intro:
            if "intro" in self.top:
                self.problem(tok, _("a second introduction"), _("a guide has one introduction: give this chapter a "
                                                                "part heading above it, or remove `.intro`"))
            self.top["intro"], self.top.key_marks["intro"], self.top.value_marks["intro"] = m, m.mark, m.mark
        elif self.depth == 3 and self.part is not None:  # not intro: under a part
            _add(self.part["chapters"], m, m.mark)
        else:
            _add(self.chapters, m, m.mark)
        self.chapter = m

    def open_page(self, tok: Token, inline: Token) -> None:
        self.close_page()
        seen = self.page_ids.setdefault(id(self.chapter), set())
        m, _attrs = self.heading(tok, inline, "page", seen)
        if self.chapter is None:
            self.problem(tok, _("page {title!r} comes before any chapter").format(title=m["title"]),
                         _("add a chapter heading ({heading}) above it").format(
                             heading=f"`{'#' * (self.depth - 1)} Titre`"))
            return
        m["blocks"] = _ylist(m.mark)
        m.key_marks["blocks"] = m.value_marks["blocks"] = m.mark
        _add(self.chapter["pages"], m, m.mark)
        self.page, self.page_problems = m, len(self.problems)

    # --- text blocks ---------------------------------------------------------------------------

    def plain(self, inline: Token) -> str:
        return plain_tokens(inline.children).strip()

    def text(self, inline: Token) -> str:
        """A block's text with its inline markup, as a YAML guide writes it: one reading serves both."""
        return source(inline.children).strip()

    def blocks(self, tokens: list[Token], callout_ok: bool) -> list[Made]:
        """Paragraphs, lists, links and callouts as (kind, value, mark) triples."""
        out: list[Made] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            end = _closing(tokens, i)
            if tok.type in _REFUSED:
                self.problem(tok, *map(_, _REFUSED[tok.type]))
            elif (read := _BLOCK_READERS.get(tok.type)) is not None:
                out.extend(read(self, tokens, i, end, callout_ok))
            elif tok.type != "hr":
                self.problem(tok, _("unsupported Markdown ({kind})").format(kind=tok.type),
                             _("write paragraphs, lists, links and quotes"))
            i = end + 1
        return out

    def paragraph(self, tokens: list[Token], i: int, end: int, callout_ok: bool) -> list[Made]:
        """A paragraph, or a link block when the paragraph is one link alone."""
        mark, inline = self.mark(tokens[i]), tokens[i + 1]
        kids = [t for t in inline.children or [] if not (t.type == "text" and not t.content.strip())]
        if kids and kids[0].type == "link_open" and kids[-1].type == "link_close" and \
                sum(t.type == "link_open" for t in kids) == 1:
            return [("link", _ymap(mark, ("url", kids[0].attrs.get("href", ""), mark),
                                   ("label", plain_tokens(kids[1:-1]).strip(), mark)), mark)]
        return [("p", self.text(inline), mark)]

    def list_block(self, tokens: list[Token], i: int, end: int, callout_ok: bool) -> list[Made]:
        mark = self.mark(tokens[i])
        items = _ylist(mark)
        for j in range(i, end):
            if tokens[j].type == "inline":
                _add(items, self.text(tokens[j]), self.mark(tokens[j]))
        return [("list", items, mark)]

    def quote(self, tokens: list[Token], i: int, end: int, callout_ok: bool) -> list[Made]:
        if callout_ok:
            return self.callout(tokens[i + 1:end], tokens[i])
        self.problem(tokens[i], _("a quote inside a callout"), _("callouts cannot be nested: move it out"))
        return []

    def heading_block(self, tokens: list[Token], i: int, end: int, callout_ok: bool) -> list[Made]:
        return [("heading", self.text(tokens[i + 1]), self.mark(tokens[i]))]

    def callout(self, inner: list[Token], quote: Token) -> list[Made]:
        mark = self.mark(quote)
        kind = _callout_kind(inner)
        if kind is None:
            self.problem(quote, _("a quote (`>`) that is not a callout"),
                         _("start it with a label in bold, e.g. `> **Attention :** …`; labels: Attention, "
                           "Bon à savoir, À noter, Exemple, Important"))
            return []
        children = [b for b in self.blocks(inner, callout_ok=False) if not (b[0] == "p" and not b[1])]
        if not children:
            self.problem(quote, _("an empty callout"), _("write its text after the label"))
            return []
        if len(children) == 1 and children[0][0] == "p":
            return [(kind, children[0][1], mark)]
        value = _ylist(mark)
        for k, v, m in children:
            _add(value, _ymap(m, (k, v, m)), m)
        return [(kind, value, mark)]


def skipped_levels(r: _Reader, tokens: list[Token]) -> list[Problem]:
    """One problem per heading that goes two levels down at once (`#` then `###`): read as it is, every
    page under it would be reported as outside a chapter, and the part as empty."""
    names = _LEVEL_NAMES[r.depth]
    out, last = [], 0
    for i, tok in enumerate(tokens):
        level = int(tok.tag[1:]) if tok.type == "heading_open" else 0
        if not level or level > r.depth and last == r.depth:  # a heading inside a page: any level
            continue
        if last and level > last + 1:
            missing, heading = "#" * (last + 1), f"{tok.markup} {tokens[i + 1].content}".strip()
            out.append(Problem(r.file, r.mark(tok)[0], None, "",
                               _("the level {missing} is missing between {upper} and {lower}").format(
                                   missing=missing, upper="#" * last, lower=tok.markup),
                               _("add a {missing} heading ({what}) above “{heading}”, or write this heading with "
                                 "{missing}").format(missing=missing, what=_(names[last]), heading=heading[:60])))
        last = min(level, r.depth)
    return out


def _callout_kind(inner: list[Token]) -> str | None:
    """The callout kind a quote's first words give, `**Attention :**` or `[!WARNING]`, taken off its text;
    None for a quote that is not a callout."""
    if len(inner) <= 1 or inner[0].type != "paragraph_open":
        return None
    kids = [t for t in inner[1].children or [] if not (t.type == "text" and not t.content)]
    if kids and kids[0].type == "strong_open":
        close = next(k for k, t in enumerate(kids) if t.type == "strong_close")
        kind = CALLOUT_LABELS.get(fold(plain_tokens(kids[1:close])))
        if kind is not None:
            rest = kids[close + 1:]
            if rest and rest[0].type == "text":
                rest = [Token("text", "", 0, content=re.sub(r"^\s*:?\s*", "", rest[0].content)), *rest[1:]]
            inner[1].children = rest
        return kind
    if kids and kids[0].type == "text" and (a := re.match(r"\[!(\w+)\]\s*", kids[0].content)) \
            and a.group(1).upper() in ALERTS:
        inner[1].children = [Token("text", "", 0, content=kids[0].content[a.end():]), *kids[1:]]
        return ALERTS[a.group(1).upper()]
    return None


# What a page's Markdown blocks become; other blocks are refused with the cause and the fix.
_BLOCK_READERS = {"paragraph_open": _Reader.paragraph, "bullet_list_open": _Reader.list_block,
                  "ordered_list_open": _Reader.list_block, "blockquote_open": _Reader.quote,
                  "heading_open": _Reader.heading_block}
_CODE = (N_("a code block in a page"), N_("indented lines and ``` blocks are read as code: remove the indentation; "
                                         "use ```narration for text to be said instead of the page"))
_REFUSED = {"fence": _CODE, "code_block": _CODE,
            "html_block": (N_("HTML in a page"), N_("write the text in plain Markdown"))}


def _closing(tokens: list[Token], i: int) -> int:
    """The index of the token that closes the one at i (itself when it opens nothing)."""
    if tokens[i].nesting != 1:
        return i
    level = 0
    for j in range(i, len(tokens)):
        level += tokens[j].nesting
        if level == 0:
            return j
    return len(tokens) - 1


def _heading_attrs(content: str) -> tuple[str, dict[str, str], set[str], list[tuple[str, str]]]:
    """A heading's text without its `{#id .intro key="value"}`, the attributes and classes read from it, and
    the (message, fix) of what could not be read."""
    attrs: dict[str, str] = {}
    classes: set[str] = set()
    problems: list[tuple[str, str]] = []
    if m := _ATTRS.search(content):
        content = content[: m.start()].rstrip()
        rest = m.group(1)
        while rest.strip():
            a = _ATTR.match(rest)
            if not a:
                problems.append((_("cannot read the heading's {braces}").format(braces=f"`{{{m.group(1)}}}`"),
                                 _("write e.g. {example} or {example2}").format(
                                     example="{#mon-id}", example2='{#mon-id menu_label="la vaccination"}')))
                break
            rest = rest[a.end():]
            if a.group(1):
                attrs["id"] = a.group(1)
            elif a.group(2):
                classes.add(a.group(2))
            else:
                v = a.group(4)
                try:  # quoted values use JSON's escapes (\" and \\), as the converter writes them
                    attrs[a.group(3)] = json.loads(v) if v.startswith('"') else v
                except json.JSONDecodeError:
                    problems.append((_("cannot read {text} in the heading's braces").format(text=a.group(0).strip()),
                                     _("write a backslash as {backslash} and a quote as {quote} inside the "
                                       "quotes").format(backslash="\\\\", quote='\\"')))
                    attrs[a.group(3)] = v.strip('"')
    return content, attrs, classes, problems
