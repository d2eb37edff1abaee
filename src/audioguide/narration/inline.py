"""The guide's inline markup, read once for every format and every output.

A text of a guide, from YAML or from Markdown, is CommonMark inline markup: `**gras**`, `*italique*`,
`[libellé](adresse)`, `<adresse>`, `` `code` ``. The Markdown reader hands its paragraphs on in that same form
(`source`), and every output reads them with the same parser. Three renderers: the written form (`plain`,
finished by narration.written, from which the spoken form is then made), the HTML of the transcripts and books
(`to_html`), and the stressed phrases the books mark again on their sentences (`stressed`). HTML tags are not
part of a guide: they are dropped, their text kept. Rendering from the parser's tokens keeps the HTML well nested
whatever the input.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


class _AsWritten(MarkdownIt):
    """Keeps addresses as written: no percent-encoding of accents."""

    def normalizeLink(self, url: str) -> str:
        return url

    def normalizeLinkText(self, link: str) -> str:
        return link


def parser() -> MarkdownIt:
    return _AsWritten("commonmark")


_MD = parser()
# Characters a text may carry that nobody sees (soft hyphen, zero-width and direction marks, BOM): every
# renderer drops them.
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SPECIAL = re.compile(r"([\\`*_\[\]<&])")
# Bare addresses in running text: with a scheme or www., or an e-mail address.
BARE = re.compile(r"(?P<url>(?:https?://|www\.)[^\s<>\"«»]+[^\s<>\"«».,;:!?)])"
                  r"|(?P<mail>[\w.+-]+@(?:[\w-]+\.)+[A-Za-z]{2,})")


# HTML elements a text may carry from a web page or a word processor: dropped, their text kept. Anything
# else in angle brackets ("<test>", "<nom>") is the author's own text, shown as written.
_TAGS = frozenset("""a abbr acronym address article aside b bdi bdo big blink blockquote body br button caption
center cite code col colgroup dd del details dfn dialog div dl dt em embed fieldset figcaption figure font footer
form h1 h2 h3 h4 h5 h6 head header hr html i iframe img input ins kbd label legend li link main mark marquee meta
nav nobr noscript object ol optgroup option output p param picture pre q rp rt ruby s samp script section select
small source span strike strong style sub summary sup svg table tbody td template textarea tfoot th thead time
title tr track tt u ul var video wbr""".split())
_TAG = re.compile(r"<!--.*?-->|<\?.*?\?>|<!\w[^>]*>|</?([A-Za-z][A-Za-z0-9-]*)", re.S)


def _is_tag(token: Token) -> bool:
    m = _TAG.match(token.content)
    return m is not None and (m.group(1) is None or m.group(1).lower() in _TAGS)


def display_url(url: str) -> str:
    """An address as printed: without the scheme, which nobody types ("ameli.fr/assure", "contact@asso.fr":
    Word makes every typed e-mail address a mailto: link, and the voice would say "mailto")."""
    return re.sub(r"^(?:https?://|mailto:|tel:)", "", url.strip(), flags=re.I).rstrip("/")


def href(address: str) -> str:
    return address if re.match(r"(?:https?|mailto|tel):", address, re.I) else "https://" + address


def national(number: str) -> str:
    """+33123456789 -> 01 23 45 67 89: a French number said in pairs, as people say and dial it."""
    digits = re.sub(r"[^\d+]", "", number)
    if re.fullmatch(r"\+33\d{9}", digits):
        digits = "0" + digits[3:]
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    return number


def own_address(label: str, url: str) -> bool:
    """A link whose text is its address: the same e-mail or web address, or the same phone number."""
    def bare(text: str) -> str:
        return re.sub(r"^www\.", "", display_url(text).lower())

    if url.lower().startswith("tel:"):
        return re.sub(r"\D", "", national(display_url(url))) == re.sub(r"\D", "", national(label))
    return bare(label) == bare(url)


def escape(text: str) -> str:
    """Plain text as markup that reads back as exactly this text (no line breaks)."""
    return _SPECIAL.sub(r"\\\1", text)


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[Token, ...]:
    if not text:
        return ()
    return tuple(_MD.parseInline(text)[0].children or ())


def tokens(text: str) -> tuple[Token, ...]:
    """The inline tokens of a text (shared: do not modify them)."""
    return _parse(text)


def _link_end(toks, i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        depth += toks[j].type == "link_open"
        depth -= toks[j].type == "link_close"
        if depth == 0:
            return j
    return len(toks) - 1


def _link_plain(open_: Token, inner: list[Token]) -> str:
    url = str(open_.attrs.get("href", ""))  # a text: markdown-it types attributes wider
    label = plain_tokens(inner).strip()
    if open_.markup == "autolink":
        return display_url(url) if url.lower().startswith(("http://", "https://", "mailto:")) else label
    if not label:
        return display_url(url)
    return label if label in (url, display_url(url)) or own_address(label, url) else f"{label} ({display_url(url)})"


def plain_tokens(toks, addresses: bool = True) -> str:
    """The words of tokens: marks and tags dropped, a link's address after its label (unless not
    `addresses`: a heading's title and id keep the label only), breaks kept."""
    out, i = [], 0
    toks = list(toks or ())
    while i < len(toks):
        t = toks[i]
        if t.type in ("text", "code_inline", "text_special") or t.type == "html_inline" and not _is_tag(t):
            out.append(t.content)
        elif t.type == "softbreak":
            out.append(" ")
        elif t.type == "hardbreak":
            out.append("\n")
        elif t.type == "image":
            out.append(plain_tokens(t.children))
        elif t.type == "link_open":
            end = _link_end(toks, i)
            out.append(_link_plain(t, toks[i + 1:end]) if addresses else plain_tokens(toks[i + 1:end], False))
            i = end
        i += 1
    return "".join(out)


def plain(text: str) -> str:
    """A text's words as a reader sees them: `[ameli](https://www.ameli.fr)` -> "ameli (www.ameli.fr)"."""
    return plain_tokens(tokens(text))


def source(toks) -> str:
    """Tokens from the Markdown reader back as the inline markup a YAML guide writes: the same reading
    (`plain`, `to_html`, `stressed`) then serves both. Text is kept as the reader unescaped it, as YAML text
    is written; HTML tags are dropped."""
    out, toks, i = [], list(toks or ()), 0
    while i < len(toks):
        t = toks[i]
        if t.type in ("text", "text_special") or t.type == "html_inline" and not _is_tag(t):
            out.append(t.content)
        elif t.type == "code_inline":
            fence = "`" * (1 + max((len(m) for m in re.findall(r"`+", t.content)), default=0))
            pad = " " if t.content.startswith("`") or t.content.endswith("`") else ""
            out.append(f"{fence}{pad}{t.content}{pad}{fence}")
        elif t.type == "softbreak":
            out.append(" ")
        elif t.type == "hardbreak":  # as the reader always gave it; the written form makes it a space
            out.append("\n")
        elif t.type in ("strong_open", "strong_close"):
            out.append("**")
        elif t.type in ("em_open", "em_close"):
            out.append("*")
        elif t.type == "image":
            out.append(plain_tokens(t.children))
        elif t.type == "link_open":
            end = _link_end(toks, i)
            url = t.attrs.get("href", "")
            if t.markup == "autolink":
                out.append(f"<{url.removeprefix('mailto:') if url.startswith('mailto:') else url}>")
            else:
                target = f"<{url}>" if re.search(r"[\s()<>\\]", url) else url
                out.append(f"[{source(toks[i + 1:end])}]({target})")
            i = end
        i += 1
    return "".join(out)


def stressed(text: str) -> list[tuple[str, str]]:
    """The stressed phrases of a text, in order, outermost only: (words, "**") for bold, (words, "*")."""
    out, toks, i = [], tokens(text), 0
    while i < len(toks):
        t = toks[i]
        if t.type in ("strong_open", "em_open"):
            close, depth = t.type.replace("_open", "_close"), 0
            for j in range(i, len(toks)):
                depth += toks[j].type == t.type
                depth -= toks[j].type == close
                if depth == 0:
                    break
            out.append((plain_tokens(toks[i + 1:j]), "**" if t.type == "strong_open" else "*"))
            i = j
        i += 1
    return out


def _linkify(text: str) -> str:
    out, pos = [], 0
    for m in BARE.finditer(text):
        out.append(html.escape(text[pos:m.start()], quote=False))
        if m.group("url"):
            out.append(f'<a href="{html.escape(href(m.group("url")))}">{html.escape(m.group("url"))}</a>')
        else:
            out.append(f'<a href="mailto:{html.escape(m.group("mail"))}">{html.escape(m.group("mail"))}</a>')
        pos = m.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def _html(toks, in_link: bool = False) -> str:
    out, toks, i = [], list(toks), 0
    while i < len(toks):
        t = toks[i]
        if t.type in ("text", "text_special", "code_inline") or t.type == "html_inline" and not _is_tag(t):
            out.append(html.escape(t.content, quote=False) if in_link else _linkify(t.content))
        elif t.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif t.type in ("strong_open", "em_open"):
            out.append(f"<{t.tag}>")
        elif t.type in ("strong_close", "em_close"):
            out.append(f"</{t.tag}>")
        elif t.type == "image":
            out.append(html.escape(plain_tokens(t.children), quote=False))
        elif t.type == "link_open":
            end = _link_end(toks, i)
            url = t.attrs.get("href", "")
            if t.markup == "autolink":
                label = html.escape(display_url(url) if url.lower().startswith(("http:", "https:", "mailto:"))
                                    else plain_tokens(toks[i + 1:end]), quote=False)
            else:
                label = _html(toks[i + 1:end], in_link=True) or html.escape(display_url(url), quote=False)
            out.append(f'<a href="{html.escape(href(url))}">{label}</a>')
            i = end
        i += 1
    return "".join(out)


def to_html(text: str) -> str:
    """Safe, well-nested inline HTML: bold and italics as <strong>/<em>, links and bare addresses as <a>;
    invisible characters dropped, the typographic apostrophe straightened, spaces collapsed."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFC", text)).replace("\u2019", "'")
    return _html(tokens(re.sub(r"\s+", " ", text).strip()))
