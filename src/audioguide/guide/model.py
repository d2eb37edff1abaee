"""The guide model: Guide > Part > Chapter > Page > Block, as every later stage reads it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from audioguide.guide.levels import Levels

CALLOUTS = {
    "attention": "Attention",
    "bon-a-savoir": "Bon à savoir",
    "a-noter": "À noter",
    "exemple": "Exemple",
    "important": "Important",
}
BLOCK_KINDS = ["p", "list", "heading", "link", *CALLOUTS]


@dataclass
class Block:
    """One content block of a page."""

    kind: str
    """p, list, heading, link, or a callout kind (attention, bon-a-savoir…)."""
    text: str = ""
    """Paragraph or heading text; for a link, the label to speak."""
    items: list[str] = field(default_factory=list)
    """List items."""
    url: str = ""
    """Link target."""
    children: list[Block] = field(default_factory=list)
    """Blocks inside a callout."""


@dataclass
class Page:
    id: str
    title: str
    blocks: list[Block]
    narration: str | None = None
    """Hand-written narration replacing the generated body."""
    line: int | None = None
    recording: str | None = None
    """The page's recording, relative to the guide's folder, as the guide declares it (`recording:`)."""


@dataclass
class Chapter:
    id: str
    title: str
    pages: list[Page]
    description: str = ""
    part: Part | None = None
    number: int = 0
    """1-based position among all chapters of the guide (the intro included)."""
    index_in_part: int = 0
    """1-based position in its part, or among the top-level chapters of a guide without parts."""
    menu_label: str = ""
    """How a phone menu names it after "Pour …" (default: the title, first letter lowered)."""
    description_line: int | None = None
    """Where the description is written: `check` warns that it is not read aloud."""

    @property
    def slug(self) -> str:
        return f"{self.number:02d}-{self.id}"


@dataclass
class Part:
    id: str
    title: str
    chapters: list[Chapter]
    number: int = 0
    menu_label: str = ""



@dataclass
class Guide:
    id: str
    title: str
    publisher: str
    description: str
    date: dt.date | None
    """The guide's `date:`, else the day its file last changed (see load_guide): never the build's clock."""
    subtitle: str = ""
    author: str = ""
    language: str = "fr-FR"
    source: str = ""
    rights: str = ""
    version: str = ""
    base_url: str | None = None
    email: str = ""
    link: str = ""
    feed_guid: str = ""
    """The podcast's `podcast:guid` (a UUID), fixed once published; empty: derived from the id and publisher."""
    intro: Chapter | None = None
    parts: list[Part] = field(default_factory=list)
    top_chapters: list[Chapter] = field(default_factory=list)
    """A two-level guide's chapters (no parts); empty when the guide has parts."""
    lexicon: dict[str, str] = field(default_factory=dict)
    levels: Levels = field(default_factory=Levels)
    pace: str | None = None
    """The guide's `pace:` (lent, normal…); None leaves it to the build settings."""
    path: Path | None = None

    @property
    def chapters(self) -> list[Chapter]:
        return ([self.intro] if self.intro else []) + [c for p in self.parts for c in p.chapters] + \
            self.top_chapters

    @property
    def named_parts(self) -> list[Part]:
        """The parts a listener hears about and chooses between: none when there is only one."""
        return self.parts if len(self.parts) > 1 else []

    def chapter(self, chapter_id: str) -> Chapter:
        for c in self.chapters:
            if c.id == chapter_id:
                return c
        raise KeyError(chapter_id)

    def find_page(self, page_ref: str) -> tuple[Chapter, Page]:
        """Find 'chapter/page' or a bare page id (first match)."""
        chap_id, _, page_id = page_ref.rpartition("/")
        for c in self.chapters:
            if chap_id and c.id != chap_id:
                continue
            for p in c.pages:
                if p.id == page_id:
                    return c, p
        raise KeyError(page_ref)



def default_description(title: str, subtitle: str = "") -> str:
    """What the feed and tags say of a guide that has no `description:`."""
    return (subtitle.strip().rstrip(".") or title.rstrip(".")) + " : le guide en version audio."

