"""The phone menu model: one tree, from which the simulator, the Asterisk dialplan and VoiceXML are all made.

Keys follow the usual French voice-server convention: 1-9 choose, 0 repeats, * goes back, # goes home.
While a page plays: 4 previous, 5 again, 6 next (the middle row of the keypad, left to right). At the end of a
topic the same row goes on: 6 the next topic, 5 this topic again, 4 its last page.

A menu says at most MENU_MAX choices (French voice-server practice is 4 or 5); a longer one is split into
screens of at most SCREEN entries, each with "la suite" on 9. A page is cut, between sentences, into segments of
at most about SEGMENT_MAX_S: a help or invalid key replays the segment it interrupted, not the whole page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from audioguide.guide import Chapter, Guide, Level, after
from audioguide.narration.numbers import cardinal
from audioguide.narration.written import lower_first

FORMAT = 2  # menu.json: pages are lists of segments, chapters know the next one
CHOOSE = "123456789"
REPEAT, BACK, HOME = "0", "*", "#"
PREV_PAGE, AGAIN, NEXT_PAGE = "4", "5", "6"
MORE = "9"  # on a split menu, 9 opens the next screen
MENU_MAX = 5  # entries a menu may say at once; above this it is split
SCREEN = 4  # entries per screen of a split menu: with "la suite", five choices said
SEGMENT_MAX_S = 20.0  # what help or a wrong key can make a caller hear again (a longer sentence stays whole)
INTRODUCERS = {"announce", "heading", "callout"}  # cue kinds that lead into what follows: no cut after them
TIMEOUT = "t"  # in a key script: the caller lets the prompt or page play out without pressing
MAX_TIMEOUTS = 2  # a menu is replayed this many times without an answer, then the call ends
MENU_TIMEOUT_S = 6

# Fixed prompts, in the guide's own level names (a page may be "la page", "l'étape"…). The page keys are
# said in the welcome and again on 0 during a page.
WELCOME = ("Bienvenue. Vous écoutez le guide audio « {title} », de {publisher}. "
           "Dans chaque menu, tapez le numéro de votre choix. Tapez 0 pour réécouter le menu, "
           "étoile pour revenir en arrière, et dièse pour revenir au menu principal. "
           "Pendant l'écoute, tapez 6 pour passer {to_page} {next}, 4 pour revenir {to_article} {previous}, "
           "et 5 pour {pronoun} réécouter.")
FIXED = {
    "page-keys": "Tapez 6 pour {the_page} {next}, 4 pour {article} {previous}, 5 pour {pronoun} réécouter, "
                 "étoile pour revenir au menu, dièse pour le menu principal.",
    "invalid": "Ce choix n'existe pas.",
    "first-page": "Vous êtes au début {of_chapter}.",
    # The end of a topic is where a caller wants the next one: 6 goes on, as it did from page to page.
    "chapter-end": "Fin {of_chapter}. Pour passer {to_chapter} {next_chapter}, tapez 6. "
                   "Pour {chapter_pronoun} réécouter, tapez 5. Pour revenir au menu, tapez étoile.",
    "guide-end": "Fin {of_chapter}, et fin du guide. Pour {chapter_pronoun} réécouter, tapez 5. "
                 "Pour revenir au menu, tapez étoile.",
    "goodbye": "Nous n'avons pas entendu de choix. Merci de votre écoute, et au revoir.",
}
# A title said after "Pour …" needs a determiner: "Pour la télésanté", not "Pour télésanté".
DETERMINERS = {"le", "la", "les", "un", "une", "des", "du", "au", "aux", "mon", "ma", "mes", "ton", "ta", "tes",
               "son", "sa", "ses", "notre", "nos", "votre", "vos", "leur", "leurs", "ce", "cet", "cette", "ces"}


def _fixed_words(guide: Guide) -> dict[str, str]:
    page, chapter = guide.levels.page, guide.levels.chapter
    return {"title": guide.title, "publisher": guide.publisher, "the_page": page.the, "to_page": page.to_the,
            "article": page.article, "to_article": after("à", page.article),
            "pronoun": "la" if page.feminine else "le",
            "next": page.agree("suivant", "suivante"), "previous": page.agree("précédent", "précédente"),
            "of_chapter": chapter.of_the, "to_chapter": chapter.to_the,
            "next_chapter": chapter.agree("suivant", "suivante"), "chapter_pronoun": chapter.article}


@dataclass
class Item:
    key: str
    label: str
    target: str


@dataclass
class Node:
    """A menu (items to choose) or a chapter (pages to play in order)."""

    id: str
    kind: str  # "menu" | "chapter"
    title: str
    parent: str | None
    prompt: str = ""  # prompt id of a menu
    items: list[Item] = field(default_factory=list)
    pages: list[list[str]] = field(default_factory=list)
    """A chapter's pages in order, each the prompt ids of its segments in order."""
    chapter: str = ""  # chapter id (for a chapter node)
    next: str | None = None
    """The node of the next chapter in the guide, offered on 6 at the end of this one; None for the last."""

    @property
    def end_prompt(self) -> str:
        return "chapter-end" if self.next else "guide-end"


@dataclass
class Prompt:
    id: str
    text: str
    """What is said, as written; the engines get it through the same French normaliser as the guide."""
    kind: str = "prompt"  # "prompt" | "page" (a segment of a page, cut from the chapter audio)
    chapter: str = ""
    page: str = ""


@dataclass
class PhoneMenu:
    guide_id: str
    title: str
    root: str
    nodes: dict[str, Node]
    prompts: dict[str, Prompt]

    def to_json(self) -> str:
        data = {"format": FORMAT, "guide_id": self.guide_id, "title": self.title, "root": self.root,
                "keys": {"repeat": REPEAT, "back": BACK, "home": HOME, "previous_page": PREV_PAGE,
                         "again": AGAIN, "next_page": NEXT_PAGE, "more": MORE, "max_timeouts": MAX_TIMEOUTS},
                "nodes": [asdict(n) for n in self.nodes.values()],
                "prompts": [asdict(p) for p in self.prompts.values()]}
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> PhoneMenu:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format') if isinstance(data, dict) else None!r}, expected {FORMAT}")
        try:  # the right format number, the wrong shape (edited by hand): the caller's ValueError, not a traceback
            nodes = {}
            for n in data["nodes"]:
                n["items"] = [Item(**i) for i in n["items"]]
                nodes[n["id"]] = Node(**n)
            prompts = {p["id"]: Prompt(**p) for p in data["prompts"]}
            return cls(data["guide_id"], data["title"], data["root"], nodes, prompts)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"format {FORMAT}, but not the shape of a phone menu ({type(exc).__name__}: {exc})") \
                from None


def page_prompt_id(chapter: Chapter, index: int) -> str:
    return f"{chapter.slug}-p{index:02d}"


def segment_id(chapter: Chapter, page: int, segment: int) -> str:
    """Page `page`'s segment `segment` (both from 1): the first keeps the page's name, "02-dmp-p01"; the
    next ones add their number, "02-dmp-p01-2"."""
    return page_prompt_id(chapter, page) + (f"-{segment}" if segment > 1 else "")


def segment_cues(cues: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """A page's cues ({start, end, cont, kind…}) grouped into segments: a new one starts at a sentence when
    that sentence would take the current one past SEGMENT_MAX_S. Never inside a sentence, nor after a heading,
    a callout's label, the page's announcement or a sentence ending in ":" (a list follows), so a replayed
    segment starts where a listener can pick the thread up again. A longer sentence stays whole."""
    groups: list[list[Mapping[str, Any]]] = [[]]
    for i, cue in enumerate(cues):
        before = cues[i - 1]
        if groups[-1] and not before.get("cont") and before.get("kind") not in INTRODUCERS \
                and not before.get("text", "").rstrip().endswith(":"):
            last = i
            while last + 1 < len(cues) and cues[last].get("cont"):
                last += 1
            if cues[last]["end"] - groups[-1][0]["start"] > SEGMENT_MAX_S:
                groups.append([])
        groups[-1].append(cue)
    return groups


def _said(item, level: Level, intro: bool = False) -> str:
    """How a menu names a part or chapter after "Pour …": its menu_label as written; else its title, after
    its level's name when the title has no determiner of its own ("Pour la partie Droits")."""
    if item.menu_label:
        return item.menu_label
    if intro:
        return "l'introduction"
    first = item.title.split(maxsplit=1)[0].lower() if item.title.split() else ""
    if first in DETERMINERS or first[:2] in ("l'", "l’", "d'", "d’"):
        return lower_first(item.title)
    return f"{level.the} {item.title}"


def _screens(entries: list) -> list[list]:
    """Up to MENU_MAX entries: one screen. More: the fewest screens of at most SCREEN, as even as can be."""
    if len(entries) <= MENU_MAX:
        return [entries]
    count = -(-len(entries) // SCREEN)
    size = -(-len(entries) // count)
    return [entries[i:i + size] for i in range(0, len(entries), size)]


def _menu(menu_id: str, title: str, heading: str, parent: str | None, entries: list[tuple[str, str, str]],
          footer: str, nodes: dict, prompts: dict) -> None:
    """Add a menu of (title, spoken label, target) entries, split into screens with 'la suite, tapez 9' when it
    has more than MENU_MAX. Each target's parent is the screen it is listed on, so * returns there."""
    screens = _screens(entries)
    for s, chunk in enumerate(screens):
        nid = menu_id if s == 0 else f"{menu_id}-{s + 1}"
        items = [Item(CHOOSE[i], title, target) for i, (title, _, target) in enumerate(chunk)]
        for _, _, target in chunk:
            if target in nodes:
                nodes[target].parent = nid
        lines = [heading if s == 0 else f"{heading.rstrip('.')}, suite."]
        lines += [f"Pour {spoken}, tapez {it.key}." for it, (_, spoken, _) in zip(items, chunk)]
        if s + 1 < len(screens):
            items.append(Item(MORE, "Suite du menu", f"{menu_id}-{s + 2}"))
            lines.append(f"Pour la suite, tapez {MORE}.")
        lines.append(footer)
        nodes[nid] = Node(nid, "menu", title, parent if s == 0 else (menu_id if s == 1 else f"{menu_id}-{s}"),
                          prompt=f"menu-{nid}", items=items)
        prompts[f"menu-{nid}"] = Prompt(f"menu-{nid}", " ".join(lines))


def build_menu(guide: Guide, page_cues: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]] | None = None
               ) -> PhoneMenu:
    """Main menu -> parts (and the introduction) -> chapters -> pages; without parts, or with only one,
    the main menu lists the chapters. `page_cues` gives each page's narration as timed cues
    ({text, start, end, cont}), keyed by (chapter id, page id): the pages are cut into segments from their
    timing. Without it each page is one segment, named by its title."""
    nodes: dict[str, Node] = {}
    words = _fixed_words(guide)
    prompts: dict[str, Prompt] = {"welcome": Prompt("welcome", WELCOME.format(**words))}
    prompts.update({k: Prompt(k, v.format(**words)) for k, v in FIXED.items()})
    levels = guide.levels

    def chapter_node(ch: Chapter, parent: str) -> str:
        nid = f"chapter-{ch.id}"
        pages = []
        for i, page in enumerate(ch.pages, 1):
            cues = (page_cues or {}).get((ch.id, page.id))
            groups: list[list[Mapping[str, Any]]] = segment_cues(cues) if cues else \
                [[{"text": f"{ch.title}, {levels.page.noun} {i} : {page.title}."}]]
            ids = []
            for k, group in enumerate(groups, 1):
                sid = segment_id(ch, i, k)
                prompts[sid] = Prompt(sid, "\n".join(c["text"] for c in group), "page", ch.id, page.id)
                ids.append(sid)
            pages.append(ids)
        nodes[nid] = Node(nid, "chapter", ch.title, parent, pages=pages, chapter=ch.id)
        return nid

    main_entries: list[tuple[str, str, str]] = []
    if guide.intro:
        main_entries.append((guide.intro.title, _said(guide.intro, levels.chapter, intro=True),
                             chapter_node(guide.intro, "main")))
    footer = "Tapez étoile pour revenir, 0 pour réécouter."
    for part in guide.named_parts:
        pid = f"part-{part.id}"
        entries = [(ch.title, _said(ch, levels.chapter), chapter_node(ch, pid)) for ch in part.chapters]
        _menu(pid, part.title, f"{levels.part.title} {cardinal(part.number)} : {part.title}.", "main", entries,
              footer, nodes, prompts)
        main_entries.append((part.title, _said(part, levels.part), pid))
    if not guide.named_parts:  # two levels, or a single part: its chapters are the main menu, not one choice
        main_entries += [(ch.title, _said(ch, levels.chapter), chapter_node(ch, "main")) for ch in guide.chapters
                         if ch is not guide.intro]
    _menu("main", guide.title, "Menu principal.", None, main_entries, "Tapez 0 pour réécouter.",
          nodes, prompts)
    chapters = [f"chapter-{ch.id}" for ch in guide.chapters]
    for nid, nxt in zip(chapters, chapters[1:]):
        nodes[nid].next = nxt
    # A fixed prompt no node plays is not made: "chapter-end" needs two chapters.
    for unused in {"chapter-end", "guide-end"} - {nodes[c].end_prompt for c in chapters}:
        del prompts[unused]
    # Menus first in the file, main at the top, for people reading the dialplan.
    order = sorted(nodes, key=lambda n: (nodes[n].kind != "menu", n != "main", list(nodes).index(n)))
    return PhoneMenu(guide.id, guide.title, "main", {n: nodes[n] for n in order}, prompts)
