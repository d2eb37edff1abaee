"""The narration pipeline: written French in, speakable French out."""

from __future__ import annotations

from functools import lru_cache

from audioguide.narration.lexicon import merged


class Normalizer:
    """Runs the French steps in order, with the lexicon (default + guide) at its place."""

    def __init__(self, guide_lexicon: dict[str, str] | None = None):
        from audioguide.narration import fr  # compiles ~90 patterns: only when something is to be said

        self.lexicon = merged(guide_lexicon)
        steps = list(fr.STEPS)
        steps.insert(fr.LEXICON_AT, fr.make_lexicon_step(self.lexicon))
        self.steps = steps

    def __call__(self, text: str) -> str:
        for step in self.steps:
            text = step(text)
        return text

    def unguarded(self, text: str) -> str:
        """The text as the steps leave it, before the final guard. The guard hides whatever a step missed
        (a digit read as one, not as a number), so tests check the steps' own work here."""
        for step in self.steps[:-1]:
            text = step(text)
        return text


@lru_cache(maxsize=8)
def _default() -> Normalizer:
    return Normalizer()


def normalize(text: str, lexicon: dict[str, str] | None = None) -> str:
    """Written French -> what a careful narrator says. Never raises on any text."""
    if lexicon:
        return Normalizer(lexicon)(text)
    return _default()(text)


def rules_fingerprint(lexicon: dict[str, str] | None = None) -> str:
    """Changes whenever the French steps, their tables or the guide's lexicon change."""
    import hashlib
    import json
    from pathlib import Path

    h = hashlib.sha256(json.dumps(lexicon or {}, sort_keys=True, ensure_ascii=False).encode())
    root = Path(__file__).parent
    for f in sorted([*root.glob("*.py"), *root.glob("data/*")]):  # data: tables and the word list
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:24]


class MemoNormalizer:
    """A Normalizer whose results persist in the cache folder, so a rebuild does not re-run every regex.
    The memo file is named by the rules' fingerprint: any change to the rules starts a new one."""

    def __init__(self, folder, lexicon: dict[str, str] | None = None):
        import json
        from pathlib import Path

        self.lexicon = lexicon
        self._inner: Normalizer | None = None  # built on first miss: loading the tables is most of a warm run
        self.path = Path(folder) / f"narration-{rules_fingerprint(lexicon)}.json"
        try:
            self.memo: dict[str, str] = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            self.memo = {}
        self.dirty = False

    def __call__(self, text: str) -> str:
        said = self.memo.get(text)
        if said is None:
            if self._inner is None:
                self._inner = Normalizer(self.lexicon)
            said = self.memo[text] = self._inner(text)
            self.dirty = True
        return said

    def save(self) -> None:
        import json

        from audioguide.files import write_text

        if self.dirty:
            write_text(self.path, json.dumps(self.memo, ensure_ascii=False, sort_keys=True))
            self.dirty = False
