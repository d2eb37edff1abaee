"""Runs the phone menu model the way the dialplan does, one key at a time. Used by `audioguide phone` and tests.

A key script holds one key per wait: the welcome, each menu (its prompt and the pause after it), each page
segment and the end of a topic. `t` lets that wait run out: the welcome or a segment plays to its end, a menu
times out. A key pressed during the welcome acts at once in the main menu, as on the line (barge-in)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from audioguide.exceptions import AudioguideError
from audioguide.i18n import _
from audioguide.phone.menu import (
    AGAIN,
    BACK,
    HOME,
    MAX_TIMEOUTS,
    NEXT_PAGE,
    PREV_PAGE,
    REPEAT,
    TIMEOUT,
    Node,
    PhoneMenu,
    build_menu,
)
from audioguide.timing import end_cue_at

KEYS = set("0123456789*#") | {TIMEOUT}
# Without audio (a guide run as text), a segment's length is estimated: espeak-ng at its usual rate says about
# 15 characters a second (see narration/script.py).
CHARS_PER_S = 15.0


def parse_keys(text: str) -> list[str]:
    """'1 2 # 0 t' or '12#0t' -> ['1', '2', '#', '0', 't']."""
    keys = [c for c in text.lower() if not c.isspace() and c != ","]
    bad = sorted(set(keys) - KEYS)
    if bad:
        raise AudioguideError(f"Unknown key(s) {' '.join(bad)!s} in --keys {text!r}.",
                              fix="use 0-9, * and #, and t for a time-out (no key pressed), e.g. --keys \"1 2 6 t #\"")
    return keys


class Call:
    """One simulated call. `play(prompt_id)` is called for every prompt and page segment heard, in order;
    `keys()` yields the caller's keys (TIMEOUT for none); the call ends when keys run out or on goodbye."""

    def __init__(self, menu: PhoneMenu, play: Callable[[str], None]):
        self.menu = menu
        self.play = play
        self.heard: list[str] = []

    def _say(self, prompt_id: str) -> None:
        self.heard.append(prompt_id)
        self.play(prompt_id)

    def run(self, keys: Iterator[str]) -> list[str]:
        keys = iter(keys)
        self._say("welcome")
        key = next(keys, None)
        if key is None:
            return self.heard
        # A key pressed during the welcome is the main menu's key.
        state = _State(self.menu.root, pending=None if key == TIMEOUT else key)
        while self._step(state, keys):
            pass
        return self.heard

    def _step(self, s: _State, keys: Iterator[str]) -> bool:
        """One wait of the call; False when it ends (keys run out, or goodbye)."""
        n = self.menu.nodes[s.node]
        if n.kind == "menu":
            return self._in_menu(n, s, keys)
        if s.page is None:
            return self._at_end_of_topic(n, s, keys)
        return self._in_page(n, s, keys)

    def _in_menu(self, n: Node, s: _State, keys: Iterator[str]) -> bool:
        key: str | None
        if s.pending is None:
            self._say(n.prompt)
            key = next(keys, None)
        else:
            key, s.pending = s.pending, None
        if key is None:
            return False
        if key == TIMEOUT:
            s.timeouts += 1
            if s.timeouts > MAX_TIMEOUTS:
                self._say("goodbye")
                return False
            return True
        s.timeouts = 0
        item = next((i for i in n.items if i.key == key), None)
        if item:
            s.node, s.page, s.seg = item.target, 0, 0
        elif key == BACK:
            s.node = n.parent or s.node
        elif key == HOME:
            s.node = self.menu.root
        elif key != REPEAT:
            self._say("invalid")
        return True

    def _at_end_of_topic(self, n: Node, s: _State, keys: Iterator[str]) -> bool:
        """The end of a topic: a small menu of its own."""
        self._say(n.end_prompt)
        key = next(keys, None)
        if key is None:
            return False
        s.timeouts = 0
        if key in (TIMEOUT, BACK):
            s.node = n.parent or self.menu.root  # a topic always has a parent menu
        elif key == HOME:
            s.node = self.menu.root
        elif key == NEXT_PAGE and n.next:
            s.node, s.page, s.seg = n.next, 0, 0
        elif key == AGAIN:
            s.page, s.seg = 0, 0
        elif key == PREV_PAGE:
            s.page, s.seg = len(n.pages) - 1, 0
        elif key != REPEAT:
            self._say("invalid")
        return True

    def _in_page(self, n: Node, s: _State, keys: Iterator[str]) -> bool:
        """A chapter: segments play one after the other; a key during one acts at once."""
        assert s.page is not None
        self._say(n.pages[s.page][s.seg])
        key = next(keys, None)
        if key is None:
            return False
        if key == TIMEOUT and s.seg + 1 < len(n.pages[s.page]):
            s.seg += 1
        elif key in (TIMEOUT, NEXT_PAGE):
            s.page, s.seg = (s.page + 1 if s.page + 1 < len(n.pages) else None), 0
        elif key == PREV_PAGE:
            if s.page == 0:
                self._say("first-page")
            s.page, s.seg = max(0, s.page - 1), 0
        elif key == AGAIN:
            s.seg = 0
        elif key in (BACK, HOME):
            s.node, s.timeouts = ((n.parent or self.menu.root) if key == BACK else self.menu.root), 0
        else:  # help or a wrong key: said, then the same segment again, not the whole page
            self._say("page-keys" if key == REPEAT else "invalid")
        return True


@dataclass
class _State:
    """Where a call is: a node, and in a chapter the page and segment playing (page None: the end of the topic)."""

    node: str
    page: int | None = 0
    seg: int = 0
    timeouts: int = 0
    pending: str | None = None
    """A key pressed during the welcome, acted on by the main menu."""


def text_cues(segments) -> list[dict]:
    """Narration segments (no audio) as cues timed by an estimate, for the menu model of a guide run as text."""
    cues, t = [], 0.0
    for seg in segments:
        end = t + len(seg.text) / CHARS_PER_S
        cues.append({"text": seg.text, "start": round(t, 3), "end": round(end, 3), "cont": seg.cont})
        t = end + seg.pause_ms / 1000
    return cues


def load_menu(source: Path) -> tuple[PhoneMenu, Path | None]:
    """An output folder (with phone/menu.json and its sounds) or a guide (text only, nothing to play)."""
    source = Path(source)
    for candidate in (source / "phone" / "menu.json", source / "menu.json"):
        if candidate.is_file():
            try:
                return PhoneMenu.from_json(candidate.read_text("utf-8")), candidate.parent / "sounds"
            except (ValueError, KeyError, TypeError) as exc:
                raise AudioguideError(f"{candidate} is not a phone menu this version can read ({exc}).",
                                      fix="build the guide again with `audioguide build`") from None
    from audioguide.guide import load_guide
    from audioguide.narration.script import ScriptWriter

    guide = load_guide(source)
    writer = ScriptWriter(guide)
    cues = {(ch.id, s.page.id): text_cues(s.segments[:end_cue_at([seg.kind for seg in s.segments])])
            for ch in guide.chapters for s in writer.chapter(ch)}
    return build_menu(guide, cues), None
def player() -> list[str] | None:
    if shutil.which("ffplay"):
        return ["ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"]
    if shutil.which("aplay"):
        return ["aplay", "-q"]
    return None


def live_keys(echo: Callable[[str], None]) -> Iterator[str]:
    """Keys typed at the terminal, one line per wait: Enter alone lets it play on (a time-out), q hangs up."""
    while True:
        echo(_("⌨  key (1-9 0 * #, Enter = wait, q = hang up): "))
        line = sys.stdin.readline()
        if not line or line.strip().lower() == "q":
            return
        try:
            keys = parse_keys(line) or [TIMEOUT]
        except AudioguideError:
            echo(_("(possible keys: 0 to 9, * and #)") + "\n")
            continue
        yield from keys
