"""The phone menu model: one tree, from which the simulator, the Asterisk dialplan and VoiceXML are all made.

Keys follow the usual French voice-server convention: 1-9 choose, 0 repeats, * goes back, # goes home.
While a page plays: 4 previous, 5 again, 6 next (the middle row of the keypad, left to right).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from audioguide.guide import Chapter, Guide, after
from audioguide.narration.numbers import cardinal
from audioguide.narration.script import lower_first

CHOOSE = "123456789"
REPEAT, BACK, HOME = "0", "*", "#"
PREV_PAGE, AGAIN, NEXT_PAGE = "4", "5", "6"
MORE = "9"  # on a menu longer than nine entries, 9 opens the rest
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
    "chapter-end": "Fin {of_chapter}.",
    "goodbye": "Nous n'avons pas entendu de choix. Merci de votre écoute, et au revoir.",
}


def _fixed_words(guide: Guide) -> dict[str, str]:
    page, chapter = guide.levels.page, guide.levels.chapter
    return {"title": guide.title, "publisher": guide.publisher, "the_page": page.the, "to_page": page.to_the,
            "article": page.article, "to_article": after("à", page.article),
            "pronoun": "la" if page.feminine else "le",
            "next": page.agree("suivant", "suivante"), "previous": page.agree("précédent", "précédente"),
            "of_chapter": chapter.of_the}


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
    pages: list[str] = field(default_factory=list)  # prompt ids of a chapter's pages, in order
    chapter: str = ""  # chapter id (for a chapter node)


@dataclass
class Prompt:
    id: str
    text: str
    """What is said, as written; the engines get it through the same French normaliser as the guide."""
    kind: str = "prompt"  # "prompt" | "page"
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
        data = {"format": 1, "guide_id": self.guide_id, "title": self.title, "root": self.root,
                "keys": {"repeat": REPEAT, "back": BACK, "home": HOME, "previous_page": PREV_PAGE,
                         "again": AGAIN, "next_page": NEXT_PAGE, "more": MORE, "max_timeouts": MAX_TIMEOUTS},
                "nodes": [asdict(n) for n in self.nodes.values()],
                "prompts": [asdict(p) for p in self.prompts.values()]}
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "PhoneMenu":
        data = json.loads(text)
        nodes = {}
        for n in data["nodes"]:
            n["items"] = [Item(**i) for i in n["items"]]
            nodes[n["id"]] = Node(**n)
        prompts = {p["id"]: Prompt(**p) for p in data["prompts"]}
        return cls(data["guide_id"], data["title"], data["root"], nodes, prompts)


def page_prompt_id(chapter: Chapter, index: int) -> str:
    return f"{chapter.slug}-p{index:02d}"


def _said(item) -> str:
    """How a menu names a part or chapter after "Pour …": its menu_label as written, else its title."""
    return item.menu_label or lower_first(item.title)


def _menu(menu_id: str, title: str, heading: str, parent: str | None, entries: list[tuple[str, str, str]],
          footer: str, nodes: dict, prompts: dict) -> None:
    """Add a menu of (title, spoken label, target) entries, split into screens of 8 + 'la suite, tapez 9'
    when it has more than 9."""
    screens = [entries] if len(entries) <= len(CHOOSE) else \
        [entries[i:i + len(CHOOSE) - 1] for i in range(0, len(entries), len(CHOOSE) - 1)]
    for s, chunk in enumerate(screens):
        nid = menu_id if s == 0 else f"{menu_id}-{s + 1}"
        items = [Item(CHOOSE[i], title, target) for i, (title, _, target) in enumerate(chunk)]
        lines = [heading if s == 0 else f"{heading}, suite."]
        lines += [f"Pour {spoken}, tapez {it.key}." for it, (_, spoken, _) in zip(items, chunk)]
        if s + 1 < len(screens):
            items.append(Item(MORE, "Suite du menu", f"{menu_id}-{s + 2}"))
            lines.append(f"Pour la suite du menu, tapez {MORE}.")
        lines.append(footer)
        nodes[nid] = Node(nid, "menu", title, parent if s == 0 else (menu_id if s == 1 else f"{menu_id}-{s}"),
                          prompt=f"menu-{nid}", items=items)
        prompts[f"menu-{nid}"] = Prompt(f"menu-{nid}", " ".join(lines))


def build_menu(guide: Guide, page_texts: dict[tuple[str, str], str] | None = None) -> PhoneMenu:
    """Main menu -> parts (and the introduction) -> chapters -> pages; without parts, or with only one,
    the main menu lists the chapters. `page_texts` gives each page's
    narration, keyed by (chapter id, page id); without it pages are named by their titles."""
    nodes: dict[str, Node] = {}
    words = _fixed_words(guide)
    prompts: dict[str, Prompt] = {"welcome": Prompt("welcome", WELCOME.format(**words))}
    prompts.update({k: Prompt(k, v.format(**words)) for k, v in FIXED.items()})
    levels = guide.levels

    def chapter_node(ch: Chapter, parent: str) -> str:
        nid = f"chapter-{ch.id}"
        pages = []
        for i, page in enumerate(ch.pages, 1):
            pid = page_prompt_id(ch, i)
            text = (page_texts or {}).get((ch.id, page.id), f"{ch.title}, {levels.page.noun} {i} : {page.title}.")
            prompts[pid] = Prompt(pid, text, "page", ch.id, page.id)
            pages.append(pid)
        nodes[nid] = Node(nid, "chapter", ch.title, parent, pages=pages, chapter=ch.id)
        return nid

    main_entries: list[tuple[str, str, str]] = []
    if guide.intro:
        main_entries.append((guide.intro.title, _said(guide.intro), chapter_node(guide.intro, "main")))
    for part in guide.named_parts:
        pid = f"part-{part.id}"
        entries = [(ch.title, _said(ch), chapter_node(ch, pid)) for ch in part.chapters]
        _menu(pid, part.title, f"{levels.part.title} {cardinal(part.number)} : {part.title}.", "main", entries,
              "Pour revenir en arrière, tapez étoile. Pour réécouter ce menu, tapez 0.", nodes, prompts)
        main_entries.append((part.title, _said(part), pid))
    if not guide.named_parts:  # two levels, or a single part: its chapters are the main menu, not one choice
        main_entries += [(ch.title, _said(ch), chapter_node(ch, "main")) for ch in guide.chapters
                         if ch is not guide.intro]
    _menu("main", guide.title, "Menu principal.", None, main_entries, "Pour réécouter ce menu, tapez 0.",
          nodes, prompts)
    # Menus first in the file, main at the top, for people reading the dialplan.
    order = sorted(nodes, key=lambda n: (nodes[n].kind != "menu", n != "main", list(nodes).index(n)))
    return PhoneMenu(guide.id, guide.title, "main", {n: nodes[n] for n in order}, prompts)
