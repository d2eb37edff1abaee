"""Every VoiceXML document the phone publisher makes is valid against the W3C's VoiceXML 2.1 schema and DTD,
vendored in tests/data/vxml21/ (see its README.txt: source and W3C licence), read with lxml and no network."""

from __future__ import annotations

import functools
import os

import pytest
from lxml import etree

from audioguide.phone.simulator import load_menu
from audioguide.phone.voicexml import voicexml

from conftest import DATA, ESANTE

if "MUTANT_UNDER_TEST" in os.environ:  # script/mutation: only the phone bundle of a kept build is made again
    from phone_builds import mini_build  # noqa: F401  (a fixture, asked for by name)

VXML21 = DATA / "vxml21"
XML_XSD = "http://www.w3.org/2001/xml.xsd"


class _Local(etree.Resolver):
    """The schemas import the XML namespace's schema by its W3C address: the vendored copy instead."""

    def resolve(self, url, pubid, context):
        if url == XML_XSD:
            return self.resolve_filename(str(VXML21 / "xml.xsd"), context)
        return None


@functools.lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Local())
    return etree.XMLSchema(etree.parse(str(VXML21 / "vxml.xsd"), parser))


@functools.lru_cache(maxsize=1)
def dtd() -> etree.DTD:
    return etree.DTD(str(VXML21 / "vxml.dtd"))


def problems(doc) -> list[str]:
    out = []
    for name, check in (("XSD", schema()), ("DTD", dtd())):
        if not check.validate(doc):
            out += [f"line {e.line}: {e.message} ({name})" for e in check.error_log]
    return out


@functools.cache
def menu_of(source):
    return load_menu(source)[0]


@pytest.mark.parametrize("source", [ESANTE, DATA / "mini", DATA / "two-level"], ids=["e-sante", "mini", "two-level"])
def test_every_voicexml_document_is_valid_against_the_w3c_schema_and_dtd(source):
    """An inline grammar's <rule id> is an xsd:ID: "key" in each of e-santé's 226 grammars gave 225 duplicate-ID
    errors. Each rule now has its form's id, and its grammar's root names it."""
    doc = etree.fromstring(voicexml(menu_of(source)))
    assert problems(doc) == []
    ns = {"v": "http://www.w3.org/2001/vxml"}
    grammars = doc.xpath("//v:grammar", namespaces=ns)
    assert grammars and all(g.get("root") == g.find("v:rule", ns).get("id") for g in grammars)
    # SRGS 1.0 §4.3: a grammar's version is required (the XSD leaves it optional; platforms refuse it missing)
    assert {g.get("version") for g in grammars} == {"1.0"}


def test_the_built_bundle_voicexml_is_valid(mini_build):
    doc = etree.parse(str(mini_build.out_dir / "phone" / "guide.vxml"))
    assert problems(doc) == []


def test_the_checker_is_really_checking():
    """Both the schema and the DTD name a duplicate rule id (the old "key" of every grammar) and an unknown
    element."""
    ns = "{http://www.w3.org/2001/vxml}"

    def broken(change):
        doc = etree.fromstring(voicexml(menu_of(DATA / "mini")))
        change(doc)
        return problems(doc)

    def same_id(doc):
        first, second = list(doc.iter(f"{ns}rule"))[:2]
        second.set("id", first.get("id"))

    found = broken(same_id)
    assert any("'keys_0' is not a valid value" in p and p.endswith("(XSD)") for p in found), found
    assert any("ID keys_0 already defined" in p and p.endswith("(DTD)") for p in found), found
    found = broken(lambda doc: doc.find(f"{ns}form").append(etree.Element(f"{ns}section")))
    assert [w for w in ("XSD", "DTD") if any("section" in p and p.endswith(f"({w})") for p in found)] == ["XSD", "DTD"]
