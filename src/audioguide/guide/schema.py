"""JSON Schema of the guide format, built from the validator's own key tables so the two never disagree.

Editors (VS Code's YAML extension, for instance) use it to complete and check keys while a guide is typed:
put `# yaml-language-server: $schema=guide.schema.json` on the first line of guide.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audioguide.config import PACES
from audioguide.guide import model, rules

SCHEMA_ID = "https://audioguide.invalid/guide.schema.json"
# What each key means, and its default when it has one. Keys the validator knows but this table does not
# still get a schema entry (typed from the validator), so a new key never makes a valid guide fail here.
DOCS = {
    "id": "The guide's id: lowercase letters, digits and hyphens; it names the output folder and files. "
          "Default: the folder's name.",
    "title": "The title, as spoken and shown everywhere.",
    "subtitle": "A line under the title. Default: none.",
    "publisher": "Who publishes the guide (the association).",
    "author": "Who wrote it. Default: none.",
    "language": "Language tag; only French is narrated. Default: fr-FR.",
    "description": "Two or three sentences saying what the guide is about (feed, kiosk, MP3 tags).",
    "source": "Where the written guide comes from. Default: none.",
    "rights": "Copyright and reuse terms. Default: none.",
    "version": "The guide's version, as text (\"1.0\"). Default: none.",
    "date": "Publication date, YYYY-MM-DD; the feed's date comes from it.",
    "base_url": "Public address of the output folder, for the podcast feed. Default: the build's --base-url, "
                "else a local address.",
    "email": "Contact e-mail for the podcast feed (itunes:email, podcast:locked owner). Default: none.",
    "feed_guid": "The podcast's guid (a UUID), kept for its whole life. Default: derived from the id and publisher.",
    "link": "The publisher's web site. Default: none.",
    "intro": "An introduction chapter, heard before the parts. Default: none.",
    "parts": "Three levels: parts, each with its chapters.",
    "chapters": "Two levels: the guide's chapters, without parts.",
    "lexicon": "Pronunciations: WORD: how to say it, or `spell` to spell an acronym. Default: none.",
    "levels": "What the guide calls its levels (part, chapter, page). Default: partie, sujet, page.",
    "pace": "Speaking pace (lent, normal). Default: the build's setting.",
    "depth": "Markdown guides only: 2 (`#` chapters, `##` pages) or 3 (`#` parts, `##` chapters, `###` pages). "
             "Default: 3 when the text has `###` headings, else 2.",
    "menu_label": "How a phone menu names it after \"Pour …\". Default: the title, first letter lowered.",
    "pages": "The pages of a chapter, each heard as one track section.",
    "blocks": "The page's text: paragraphs, lists, headings, links and callouts.",
    "narration": "Hand-written text said instead of the page's blocks, as written.",
    "recording": "A person's reading of the page, a sound file beside the guide (e.g. voix/accueil.mp3): it "
                 "replaces the synthetic voice. Default: recordings/<chapter-id>/<page-id>.<ext> if there is one.",
    "url": "A full web address (https://…), mailto: or tel:.",
    "label": "What is said and shown for the link.",
}

Json = dict[str, Any]  # a JSON Schema object

_TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}
_ID = {"type": "string", "pattern": rules.ID_RE.pattern}


def _typed(key: str, kind: str) -> Json:
    if key == "id":
        return dict(_ID)
    by_kind: dict[str, Json] = {
        rules.TEXT: dict(_TEXT), rules.TEXT_LIST: {"type": "array", "items": {"type": "string"}},
        rules.MAP: {"type": "object"}, rules.LIST: {"type": "array"}, rules.ANY: {},
        rules.DATE: {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    }
    return by_kind[kind]


def _object(spec: Mapping[str, tuple[str, bool]], overrides: dict[str, Json] | None = None) -> Json:
    props: dict[str, Json] = {}
    for key, (kind, _required) in spec.items():
        props[key] = {**_typed(key, kind), **(overrides or {}).get(key, {})}
        if key in DOCS:
            props[key]["description"] = DOCS[key]
    return {"type": "object", "properties": props, "required": [k for k, (_, req) in spec.items() if req],
            "additionalProperties": False}


def _blocks() -> Json:
    text = dict(_TEXT)
    simple = [
        {"type": "string", "description": "A bare text is a paragraph."},
        {"type": "object", "properties": {"p": {**text, "description": "A paragraph."}}, "required": ["p"],
         "additionalProperties": False},
        {"type": "object", "properties": {"list": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                                   "description": "A list, read with pauses between items."}},
         "required": ["list"], "additionalProperties": False},
        {"type": "object", "properties": {"heading": {**text, "description": "A heading inside the page."}},
         "required": ["heading"], "additionalProperties": False},
        {"type": "object", "properties": {"link": _object(rules.LINK_KEYS)}, "required": ["link"],
         "additionalProperties": False},
    ]
    callouts = [{"type": "object", "required": [kind], "additionalProperties": False, "properties": {kind: {
        "description": f"A callout announced « {label} : »: a text, or a list of blocks (no callout inside).",
        "anyOf": [text, {"type": "array", "minItems": 1, "items": {"anyOf": simple}}]}}}
        for kind, label in model.CALLOUTS.items()]
    return {"type": "array", "items": {"anyOf": simple + callouts}}


def schema() -> Json:
    """The JSON Schema (draft 2020-12) of a guide file, YAML or Markdown front matter alike."""
    page = _object(rules.PAGE_KEYS, {"blocks": {"$ref": "#/$defs/blocks"}})
    chapter = _object(rules.CHAPTER_KEYS, {"pages": {"items": {"$ref": "#/$defs/page"}, "minItems": 1}})
    part = _object(rules.PART_KEYS, {"chapters": {"items": {"$ref": "#/$defs/chapter"}, "minItems": 1}})
    top_spec = dict(rules.GUIDE_KEYS)
    top_spec.setdefault("chapters", (rules.LIST, False))
    top = _object(top_spec, {
        "intro": {"$ref": "#/$defs/chapter"},
        "parts": {"items": {"$ref": "#/$defs/part"}, "minItems": 1},
        "chapters": {"items": {"$ref": "#/$defs/chapter"}, "minItems": 1},
        "lexicon": {"additionalProperties": {"type": "string"}},
        "language": {"pattern": "^[fF][rR]"},
        "levels": {"additionalProperties": False,
                   "properties": {k: {"type": "string", "minLength": 1} for k in rules.LEVEL_KEYS}},
        "pace": {"enum": sorted(PACES)},
    })
    top["properties"]["depth"] = {"enum": [2, 3], "description": DOCS["depth"]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "audioguide guide", "description": "A guide for audioguide (guide.yaml, or guide.md's front "
            "matter plus its headings).", **top,
            "$defs": {"part": part, "chapter": chapter, "page": page, "blocks": _blocks()}}
