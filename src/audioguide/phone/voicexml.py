"""The same menu model as one VoiceXML 2.1 document, for hosted voice platforms that do not run Asterisk."""

from __future__ import annotations

from lxml import etree

from audioguide.phone.menu import (
    AGAIN,
    BACK,
    HOME,
    MAX_TIMEOUTS,
    MENU_TIMEOUT_S,
    NEXT_PAGE,
    PREV_PAGE,
    REPEAT,
    Node,
    PhoneMenu,
)

VXML = "http://www.w3.org/2001/vxml"
SEGMENT_WAIT = "0.1s"  # between two segments of a page: they are cut mid-pause, so this adds next to nothing
PAGE_WAIT = "0.5s"  # after a page, before the next one


def _el(parent, tag: str, text: str | None = None, **attrs):
    e = etree.SubElement(parent, f"{{{VXML}}}{tag}", **attrs)
    e.text = text
    return e


def _audio(parent, menu: PhoneMenu, prompt_id: str, audio_ext: str) -> None:
    # The text inside <audio> is what a platform speaks if it cannot fetch the file.
    _el(parent, "audio", menu.prompts[prompt_id].text, src=f"sounds/{prompt_id}.{audio_ext}")


def _prompt(parent, menu: PhoneMenu, *ids: str, bargein: bool = True, ext: str = "wav"):
    p = _el(parent, "prompt", bargein="true" if bargein else "false")
    for pid in ids:
        _audio(p, menu, pid, ext)
    return p


def _goto(parent, target: str) -> None:
    _el(parent, "goto", next=f"#{target}")


def _dtmf_grammar(parent, keys: list[str], rule: str) -> None:
    # Inline grammars take the VoiceXML namespace, not SRGS's: VoiceXML's schema includes the SRGS elements into
    # its own namespace (vxml-grammar-restriction.xsd), so an SRGS-namespace <grammar> makes the document invalid.
    # A rule's id is an xsd:ID, unique in the whole document ("key" in each made 225 duplicates).
    g = _el(parent, "grammar", mode="dtmf", version="1.0", root=rule)
    one = _el(_el(g, "rule", id=rule, scope="public"), "one-of")
    for k in keys:
        _el(one, "item", k)


def _ident(node_id: str, page: int = 0, segment: int = 0) -> str:
    """Form ids: the chapter's node id for its start, then chapter_p2, chapter_p2_s1… ('_' is never in an id)."""
    if not page and not segment:
        return node_id
    return f"{node_id}_p{page}" + (f"_s{segment}" if segment else "")


def _key_field(form, menu: PhoneMenu, prompt_id: str, keys: list[tuple[str, str | None]], wait: str | None,
               noinput: str, again: str):
    """One key field: plays `prompt_id`, then (keys: key -> form to go to; None: say the page keys and come
    back to `again`). A wrong key says so and goes to `again`; silence goes to `noinput`."""
    f = _el(form, "field", name="key")
    if wait:
        _el(f, "property", name="timeout", value=wait)
    # Rule names allow no '-' (SRGS), which form ids have: the grammars are numbered in document order instead.
    # No form id is "keys_<n>" ('_' only ever follows a node id, then p, s, end or first).
    n = sum(1 for _ in form.getroottree().getroot().iter(f"{{{VXML}}}grammar"))
    _dtmf_grammar(f, [k for k, _ in keys], f"keys_{n}")
    _prompt(f, menu, prompt_id)
    _goto(_el(f, "noinput"), noinput)
    nomatch = _el(f, "nomatch")
    _prompt(nomatch, menu, "invalid")
    _goto(nomatch, again)
    iff = None
    for key, target in keys:
        if iff is None:
            iff = _el(_el(f, "filled"), "if", cond=f"key == '{key}'")
        else:
            _el(iff, "elseif", cond=f"key == '{key}'")
        if target is None:
            _prompt(iff, menu, "page-keys")
            target = again
        _goto(iff, target)


def voicexml(menu: PhoneMenu, ext: str = "wav") -> bytes:
    root = etree.Element(f"{{{VXML}}}vxml", nsmap={None: VXML}, version="2.1")
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "fr-FR")
    _el(root, "property", name="inputmodes", value="dtmf")
    _el(root, "property", name="timeout", value=f"{MENU_TIMEOUT_S}s")
    # termchar defaults to '#', which would end the input instead of being read as "main menu". Every key is a
    # choice of one digit, so no key is needed to end one.
    _el(root, "property", name="termchar", value="")

    start = _el(_el(root, "form", id="start"), "block")
    _prompt(start, menu, "welcome")  # queued: it plays with the main menu's grammar active, so a key interrupts it
    _goto(start, menu.root)

    bye = _el(_el(root, "form", id="goodbye"), "block")
    _prompt(bye, menu, "goodbye", bargein=False)
    _el(bye, "exit")

    for node in menu.nodes.values():
        if node.kind == "menu":
            _menu(root, menu, node)
        else:
            _chapter(root, menu, node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _menu(root, menu: PhoneMenu, node: Node) -> None:
    m = _el(root, "menu", id=node.id, dtmf="false")
    _prompt(m, menu, node.prompt)
    for it in node.items:
        _el(m, "choice", it.label, dtmf=it.key, next=f"#{it.target}")
    for key, target in ((REPEAT, node.id), (BACK, node.parent or node.id), (HOME, menu.root)):
        _el(m, "choice", dtmf=key, next=f"#{target}")
    # count=1 covers the first and second silences (replay), count=3 the third (goodbye).
    _el(_el(m, "noinput", count="1"), "reprompt")
    _goto(_el(m, "noinput", count=str(MAX_TIMEOUTS + 1)), "goodbye")
    nomatch = _el(m, "nomatch")
    _prompt(nomatch, menu, "invalid")
    _el(nomatch, "reprompt")


def _chapter(root, menu: PhoneMenu, node: Node) -> None:
    """One form per page segment, so help or a wrong key comes back to the segment it interrupted."""
    back, n, end = node.parent or node.id, len(node.pages), f"{node.id}_end"
    for i, segments in enumerate(node.pages):
        nxt = _ident(node.id, i + 1) if i + 1 < n else end
        prev = _ident(node.id, i - 1) if i else f"{node.id}_first"
        for k, sid in enumerate(segments):
            here = _ident(node.id, i, k)
            last = k + 1 == len(segments)
            form = _el(root, "form", id=here)
            _key_field(form, menu, sid, [(NEXT_PAGE, nxt), (PREV_PAGE, prev), (AGAIN, _ident(node.id, i)),
                                         (REPEAT, None), (BACK, back), (HOME, menu.root)],
                       PAGE_WAIT if last else SEGMENT_WAIT, nxt if last else _ident(node.id, i, k + 1), here)
    first = _el(_el(root, "form", id=f"{node.id}_first"), "block")
    _prompt(first, menu, "first-page")
    _goto(first, node.id)
    # The end of the topic, as in the dialplan: 6 next topic, 5 this one again, 4 its last page, silence: menu.
    keys: list[tuple[str, str | None]] = [(NEXT_PAGE, node.next)] if node.next else []
    keys += [(AGAIN, node.id), (PREV_PAGE, _ident(node.id, n - 1)), (REPEAT, end), (BACK, back),
             (HOME, menu.root)]
    _key_field(_el(root, "form", id=end), menu, node.end_prompt, keys, None, back, end)
