"""The same menu model as one VoiceXML 2.1 document, for hosted voice platforms that do not run Asterisk."""

from __future__ import annotations

from lxml import etree

from audioguide.phone.menu import (AGAIN, BACK, HOME, MAX_TIMEOUTS, MENU_TIMEOUT_S, NEXT_PAGE, PREV_PAGE, REPEAT,
                                   PhoneMenu)

VXML = "http://www.w3.org/2001/vxml"
SRGS = "http://www.w3.org/2001/06/grammar"


def _audio(parent, menu: PhoneMenu, prompt_id: str, audio_ext: str) -> None:
    # The text inside <audio> is what a platform speaks if it cannot fetch the file.
    a = etree.SubElement(parent, f"{{{VXML}}}audio", src=f"sounds/{prompt_id}.{audio_ext}")
    a.text = menu.prompts[prompt_id].text


def _prompt(parent, menu: PhoneMenu, *ids: str, bargein: bool = True, ext: str = "wav"):
    p = etree.SubElement(parent, f"{{{VXML}}}prompt", bargein="true" if bargein else "false")
    for pid in ids:
        _audio(p, menu, pid, ext)
    return p


def _goto(parent, target: str) -> None:
    etree.SubElement(parent, f"{{{VXML}}}goto", next=f"#{target}")


def _dtmf_grammar(parent, keys: list[str]) -> None:
    g = etree.SubElement(parent, f"{{{SRGS}}}grammar", mode="dtmf", version="1.0", root="key")
    rule = etree.SubElement(g, f"{{{SRGS}}}rule", id="key", scope="public")
    one = etree.SubElement(rule, f"{{{SRGS}}}one-of")
    for k in keys:
        etree.SubElement(one, f"{{{SRGS}}}item").text = k


def _ident(node_id: str, page: int | None = None) -> str:
    return node_id if page is None else f"{node_id}--p{page}"


def voicexml(menu: PhoneMenu, ext: str = "wav") -> bytes:
    root = etree.Element(f"{{{VXML}}}vxml", nsmap={None: VXML}, version="2.1")
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "fr-FR")
    etree.SubElement(root, f"{{{VXML}}}property", name="inputmodes", value="dtmf")
    etree.SubElement(root, f"{{{VXML}}}property", name="timeout", value=f"{MENU_TIMEOUT_S}s")

    start = etree.SubElement(root, f"{{{VXML}}}form", id="start")
    block = etree.SubElement(start, f"{{{VXML}}}block")
    _prompt(block, menu, "welcome")
    _goto(block, menu.root)

    bye = etree.SubElement(root, f"{{{VXML}}}form", id="goodbye")
    block = etree.SubElement(bye, f"{{{VXML}}}block")
    _prompt(block, menu, "goodbye", bargein=False)
    etree.SubElement(block, f"{{{VXML}}}exit")

    for node in menu.nodes.values():
        back = node.parent or node.id
        if node.kind == "menu":
            m = etree.SubElement(root, f"{{{VXML}}}menu", id=node.id, dtmf="false")
            _prompt(m, menu, node.prompt)
            for it in node.items:
                etree.SubElement(m, f"{{{VXML}}}choice", dtmf=it.key, next=f"#{it.target}").text = \
                    it.label
            for key, target in ((REPEAT, node.id), (BACK, back), (HOME, menu.root)):
                etree.SubElement(m, f"{{{VXML}}}choice", dtmf=key, next=f"#{target}")
            # count=1 covers the first and second silences (replay), count=3 the third (goodbye).
            etree.SubElement(etree.SubElement(m, f"{{{VXML}}}noinput", count="1"), f"{{{VXML}}}reprompt")
            _goto(etree.SubElement(m, f"{{{VXML}}}noinput", count=str(MAX_TIMEOUTS + 1)), "goodbye")
            nomatch = etree.SubElement(m, f"{{{VXML}}}nomatch")
            _prompt(nomatch, menu, "invalid")
            etree.SubElement(nomatch, f"{{{VXML}}}reprompt")
            continue
        n = len(node.pages)
        for i, pid in enumerate(node.pages):
            form = etree.SubElement(root, f"{{{VXML}}}form", id=_ident(node.id, i) if i else node.id)
            here = form.get("id")
            nxt = _ident(node.id, i + 1) if i + 1 < n else f"{node.id}--end"
            prev = _ident(node.id, i - 1) if i > 1 else node.id
            field = etree.SubElement(form, f"{{{VXML}}}field", name="key")
            etree.SubElement(field, f"{{{VXML}}}property", name="timeout", value="0.5s")
            _dtmf_grammar(field, [NEXT_PAGE, PREV_PAGE, AGAIN, REPEAT, BACK, HOME])
            _prompt(field, menu, pid)
            _goto(etree.SubElement(field, f"{{{VXML}}}noinput"), nxt)  # the page played out: go on
            nomatch = etree.SubElement(field, f"{{{VXML}}}nomatch")
            _prompt(nomatch, menu, "invalid")
            _goto(nomatch, here)
            filled = etree.SubElement(field, f"{{{VXML}}}filled")
            branches = ((NEXT_PAGE, nxt), (PREV_PAGE, prev if i else f"{node.id}--first"), (AGAIN, here),
                        (REPEAT, f"{here}--keys"), (BACK, back), (HOME, menu.root))
            iff = etree.SubElement(filled, f"{{{VXML}}}if", cond=f"key == '{branches[0][0]}'")
            _goto(iff, branches[0][1])
            for key, target in branches[1:]:
                etree.SubElement(iff, f"{{{VXML}}}elseif", cond=f"key == '{key}'")
                _goto(iff, target)
            keys = etree.SubElement(root, f"{{{VXML}}}form", id=f"{here}--keys")
            block = etree.SubElement(keys, f"{{{VXML}}}block")
            _prompt(block, menu, "page-keys")
            _goto(block, here)
        first = etree.SubElement(etree.SubElement(root, f"{{{VXML}}}form", id=f"{node.id}--first"),
                                 f"{{{VXML}}}block")
        _prompt(first, menu, "first-page")
        _goto(first, node.id)
        end = etree.SubElement(etree.SubElement(root, f"{{{VXML}}}form", id=f"{node.id}--end"), f"{{{VXML}}}block")
        _prompt(end, menu, "chapter-end")
        _goto(end, back)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

