"""The narration as its users meet it, on realistic French text: the report `check --speech` prints for an
author (every section, where each finding is, the count), the spoken words of whole sentences, and where a
long sentence is cut into captions."""

import dataclasses
import shutil

import pytest
import yaml
from markdown_it.token import Token

from audioguide.guide import Block, load_guide
from audioguide.narration import normalize
from audioguide.narration.audit import audit
from audioguide.narration.inline import parser, source, stressed, to_html
from audioguide.narration.script import ScriptWriter
from audioguide.narration.written import join_sentences, split_sentences, written_form

from conftest import DATA

needs_espeak = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")


def _guide(tmp_path, blocks, lexicon=None, more=None):
    data = yaml.safe_load((DATA / "mini" / "guide.yaml").read_text("utf-8"))
    data["intro"]["pages"][0]["blocks"] = blocks
    if more:
        data["parts"][0]["chapters"][0]["pages"][0]["blocks"].append({"p": more})
    if lexicon:
        data["lexicon"] = lexicon
    (tmp_path / "guide.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return load_guide(tmp_path)


# --- the speech report an author reads --------------------------------------------------------------

@needs_espeak
def test_speech_report_names_each_finding_where_it_is(tmp_path):
    guide = _guide(tmp_path, [
        {"p": "Activez le streaming et le Bluetooth avec la ZBRQ de Mme Zorglub après un A.V.C. grave, selon la réf. "
              "du dossier."},
        {"p": "Répondez oui/non, installez la version 2.4.1 et appelez France Assos Santé ou le SAMU le week-end."},
        # "Nanterre" after the numeral "X" is a name to listen to: no capital letter ends a sentence.
        {"list": ["Le Wifi de la salle de Paris X Nanterre.", "Une IRM à jeun, un TPE et du coaching."]},
    ], {"Assos": "allow", "streaming": "allow", "week-end": "allow", "Zorglub": "allow", "Wifi": "allow",
        "ZBRQ": "spell", "SAMU": "Samu"},
        more="Le feedback du coaching passe par le TPE, avec un PV signé par France Assos Santé.")
    report = audit(guide)
    assert report.lines() == [
        "Pronunciation audit: 20 sentences put through espeak-ng's phonemiser.",
        "",
        "Words read with another language's sounds (2):",
        "  coaching  [en: k'oUtSIN]  introduction/bienvenue (+1)",
        "  feedback  [en: f'i:dbak]  dmp/quest-ce-que-cest",
        "  -> fix the pronunciation (lexicon: WORD: respelling, or [[phonemes]]) or accept the word "
        "(lexicon: WORD: allow).",
        "",
        "Acronyms missing from the lexicon (2):",
        "  PV  said “P.V.”  dmp/quest-ce-que-cest",
        "  TPE  said “T.P.E.”  introduction/bienvenue (+1)",
        "  -> add them to the guide's lexicon (WORD: spell, WORD: spoken form, or WORD: allow).",
        "",
        "Constructions read without certainty (3):",
        "  unknown abbreviation: “réf.”  said “grave, selon la réf. du dossier.”  introduction/bienvenue",
        "  number of an unknown layout: “2.4.1”  said “deux.quatre.un”  introduction/bienvenue",
        "  slash: “oui/non”  said “oui ou non,”  introduction/bienvenue",
        "  -> write them out in full in the text (“15 jours”, “référence”), or as the rules know them "
        "(“14/9” after “tension”, “3 g/j”).",
        "",
        "Pronunciation fixes undone by “allow” (2):",
        "  Assos  would be said “Assosse” without the allow  introduction/bienvenue (+1)",
        "  Wifi  would be said “ouifi” without the allow  introduction/bienvenue",
        "  -> remove “WORD: allow” from the guide's lexicon: audioguide already knows how to say it.",
        "",
        "Proper names to listen to (2, not counted): France, Nanterre",
        "",
        "Lexicon entries used (9):",
        "  Assos ×2, DMP ×3, IRM ×1, SAMU ×1, Wifi ×1, ZBRQ ×1, Zorglub ×1, bluetooth ×1, jeun ×1",
        "",
        "Words the guide accepts: streaming, week-end",
        "",
        "9 problems.",
    ]
    assert report.problems == 9 and dict(report.allowed) == {"streaming": 1, "week-end": 1}


@needs_espeak
def test_a_clean_guide_has_no_problems(tmp_path):
    report = audit(_guide(tmp_path, [{"p": "Bonjour, ce guide vous explique vos droits."}]))
    assert report.problems == 0 and report.lines()[-2:] == ["", "No problems."]
    assert not report.foreign and not report.unknown and not report.uncertain and not report.names


# --- long sentences: clips, captions, pauses ----------------------------------------------------------
# A clip ends only at clause punctuation (its spoken form then ends on a comma: the voice rises); inside a
# clip, captions of at most 2 lines of 42 characters, never ending on "au" or "de", never parting a phone
# number or a date; a piece said in under a second ("Oui,", "voilà.") joins a neighbour. (kind, pause,
# sentence goes on, [(caption as written, as said)]) per clip.

LONG = ("Concrètement, votre médecin traitant peut consulter votre dossier médical partagé depuis son cabinet sans "
        "vous demander de document papier, et il peut y ajouter le compte rendu de votre dernière consultation au "
        "06 12 34 56 78 le 15 octobre 2024.")
ASIDE = ("La liste des actes est fixée par la HAS (Haute Autorité de santé), après avis des sociétés savantes – et des "
         "représentants des patients concernés par ces nouvelles prises en charge. Oui, c'est ainsi que les choses "
         "se passent aujourd'hui dans les centres de santé, voilà.")
CONSULT = [("et il peut y ajouter le compte rendu de votre dernière consultation",
            "et il peut y ajouter le compte rendu de votre dernière consultation"),
           ("au 06 12 34 56 78", "au zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"),
           ("le 15 octobre 2024.", "le quinze octobre deux mille vingt-quatre.")]
HAS = [("La liste des actes est fixée par la HAS (Haute Autorité de santé),",
        "La liste des actes est fixée par la H.A.S., Haute Autorité de santé,")]
SAVANTES = [("après avis des sociétés savantes", "après avis des sociétés savantes,")]
PATIENTS = [("– et des représentants des patients", "et des représentants des patients"),
            ("concernés par ces nouvelles prises en charge.", "concernés par ces nouvelles prises en charge.")]
# Pasted from a message: the emoji say nothing, so they show in the caption of the words before them, never in
# a caption of their own that the voice would not say.
PHONES = " ".join(["📱"] * 24)
EMOJI = f"Pour prendre rendez-vous avec votre médecin traitant, utilisez l'application de votre choix {PHONES}"
CLIPS = {
    (None, EMOJI): [
        ("sentence", 200, True, [("Pour prendre rendez-vous avec votre médecin traitant,",) * 2]),
        ("paragraph", 850, False, [(f"utilisez l'application de votre choix {PHONES}",
                                    "utilisez l'application de votre choix.")])],
    (None, LONG): [
        ("sentence", 200, True, [("Concrètement, votre médecin traitant peut",) * 2,
                                 ("consulter votre dossier médical partagé depuis",) * 2,
                                 ("son cabinet sans vous demander de document papier,",) * 2]),
        ("paragraph", 850, False, CONSULT)],
    (None, ASIDE): [
        ("sentence", 200, True, HAS), ("sentence", 200, True, SAVANTES), ("sentence", 500, False, PATIENTS),
        ("paragraph", 850, False, [("Oui, c'est ainsi que les choses se passent",) * 2,
                                   ("aujourd'hui dans les centres de santé, voilà.",) * 2])],
    # The slow pace says fewer characters a second: shorter captions, longer pauses.
    ("lent", LONG): [
        ("sentence", 280, True, [("Concrètement, votre médecin traitant peut",) * 2,
                                 ("consulter votre dossier médical partagé",) * 2,
                                 ("depuis son cabinet sans vous demander de document papier,",) * 2]),
        ("paragraph", 1190, False, CONSULT)],
    ("lent", ASIDE): [
        ("sentence", 280, True, HAS), ("sentence", 280, True, SAVANTES), ("sentence", 700, False, PATIENTS),
        ("paragraph", 1190, False, [("Oui, c'est ainsi que les choses",) * 2,
                                    ("se passent aujourd'hui dans les centres de santé, voilà.",) * 2])],
}


@pytest.mark.parametrize("pace,text", list(CLIPS))
def test_long_sentences_are_cut_into_clips_and_captions_at_phrases(pace, text):
    guide = load_guide(DATA / "script")
    segs = ScriptWriter(guide, pace=pace).prompt(text)
    assert [(s.kind, s.pause_ms, s.cont, s.captions()) for s in segs] == CLIPS[pace, text]
    assert join_sentences(segs).split("\n") == split_sentences(text)  # the written text, whole


LINKS = [
    # Too long for one caption: the label, then the address (only its host is said).
    (("Le formulaire de demande de complémentaire santé solidaire",
      "https://www.service-public.fr/particuliers/vosdroits/F10027"),
     [("Le formulaire de demande de complémentaire santé solidaire :",
       "Le formulaire de demande de complémentaire santé solidaire :", 200, "sentence", True),
      ("service tiret public point f r.", "www.service-public.fr/particuliers/vosdroits/F10027", 850, "link", False)]),
    # A short label, but an address too long to show beside it: two clips all the same.
    (("Vos remboursements",
      "https://www.ameli.fr/assure/remboursements/rembourse/medicaments-vaccins-dispositifs/medicaments"),
     [("Vos remboursements :", "Vos remboursements :", 200, "sentence", True),
      ("ameli point f r.", "www.ameli.fr/assure/remboursements/rembourse/medicaments-vaccins-dispositifs/medicaments",
       850, "link", False)]),
    # A link whose text is its address is said once, with what to do (a web address: only said).
    (("ameli.fr", "https://www.ameli.fr"), [("ameli point f r.", "ameli.fr", 850, "link", False)]),
    (("contact@france-assos-sante.org", "mailto:contact@france-assos-sante.org"),
     [("Écrire à contact arobase france tiret assos tiret santé point org.", "Écrire à contact@france-assos-sante.org",
       850, "link", False)]),
    (("01 23 45 67 89", "tel:+33123456789"),
     [("Appeler le zéro un, vingt-trois, quarante-cinq, soixante-sept, quatre-vingt-neuf.",
       "Appeler le 01 23 45 67 89", 850, "link", False)]),
    # A label that says the number and what to do is said as it is, without a second verb.
    (("Appelez le 3919", "tel:3919"),
     [("Appelez le trente-neuf dix-neuf.", "Appelez le 3919", 850, "link", False)]),
    (("Le standard au 01 23 45 67 89", "tel:+33123456789"),
     [("Le standard au zéro un, vingt-trois, quarante-cinq, soixante-sept, quatre-vingt-neuf.",
       "Le standard au 01 23 45 67 89", 850, "link", False)]),
    (("standard au 01 23 45 67 89", "tel:+33123456789"),
     [("Appeler le standard au zéro un, vingt-trois, quarante-cinq, soixante-sept, quatre-vingt-neuf.",
       "Appeler le standard au 01 23 45 67 89", 850, "link", False)]),
    # An international number is said as it is dialled in France.
    (("Santé Info Droits", "tel:+33153624030"),
     [("Santé Info Droits :", "Santé Info Droits :", 200, "sentence", True),
      ("zéro un, cinquante-trois, soixante-deux, quarante, trente.", "+33153624030", 850, "link", False)]),
    (("Écrivez-nous", "mailto:Contact@Asso.fr"),
     [("Écrivez-nous : Contact arobase Asso point f r.", "Écrivez-nous : Contact@Asso.fr", 850, "link", False)]),
    # A scheme in capitals, as some word processors write it, is neither said nor shown.
    (("Écrivez-nous", "MAILTO:accueil@cpam.fr"),
     [("Écrivez-nous : accueil arobase C.P.A.M. point f r.", "Écrivez-nous : accueil@cpam.fr", 850, "link", False)]),
]


@pytest.mark.parametrize("link,said", LINKS)
def test_a_link_is_said_with_its_host_and_shown_with_its_address(link, said):
    segs = ScriptWriter(load_guide(DATA / "script")).link(Block("link", text=link[0], url=link[1]))
    assert [(s.text, s.written, s.pause_ms, s.kind, s.cont) for s in segs] == said


# --- a paragraph with markup: what a reader sees, in the transcripts' text and HTML -------------------------

MARKED = (
    'Pour **vos droits**, voir le site [ameli](https://www.ameli.fr/assure/) ou <https://www.sante.fr>, é'
    'crire à <accueil@cpam.fr> ou à aide@asso.fr,\nou aller sur www.monespacesante.fr ; le code `A&B` et <'
    'b>le gras</b> *en italique*, une ![image d’un formulaire](f.png) et [](https://www.has-sante.fr). [*'
    '*Le 3919**](tel:0800123456) [Contact](<https://ex.fr/a b>) <nom> ``a`b`` fin  \nsuite'
)
MARKED_WRITTEN = (
    'Pour vos droits, voir le site ameli (www.ameli.fr/assure) ou www.sante.fr, écrire à accueil@cpam.fr '
    'ou à aide@asso.fr, ou aller sur www.monespacesante.fr ; le code A&B et le gras en italique, une imag'
    "e d'un formulaire et www.has-sante.fr. Le 3919 (0800123456) Contact (ex.fr/a b) <nom> a`b fin suite"
)
MARKED_HTML = (
    'Pour <strong>vos droits</strong>, voir le site <a href="https://www.ameli.fr/assure/">ameli</a> ou <'
    'a href="https://www.sante.fr">www.sante.fr</a>, écrire à <a href="mailto:accueil@cpam.fr">accueil@cp'
    'am.fr</a> ou à <a href="mailto:aide@asso.fr">aide@asso.fr</a>, ou aller sur <a href="https://www.mon'
    'espacesante.fr">www.monespacesante.fr</a> ; le code A&amp;B et le gras <em>en italique</em>, une ima'
    'ge d\'un formulaire et <a href="https://www.has-sante.fr">www.has-sante.fr</a>. <a href="tel:08001234'
    '56"><strong>Le 3919</strong></a> <a href="https://ex.fr/a b">Contact</a> &lt;nom&gt; a`b fin suite'
)
# The Markdown reader hands a paragraph on as the markup a YAML guide writes.
MARKED_SOURCE = (
    'Pour **vos droits**, voir le site [ameli](https://www.ameli.fr/assure/) ou <https://www.sante.fr>, é'
    'crire à <accueil@cpam.fr> ou à aide@asso.fr, ou aller sur www.monespacesante.fr ; le code `A&B` et l'
    'e gras *en italique*, une image d’un formulaire et [](https://www.has-sante.fr). [**Le 3919**](tel:0'
    '800123456) [Contact](<https://ex.fr/a b>) <nom> ``a`b`` fin\nsuite'
)


def _read_at_most(tokens, times: int):
    """The tokens, each of which fails the test once `type` was read more than `times` times in all: a
    paragraph's reading that goes back over its tokens for ever (a Markdown guide's import that never ends)
    fails at once instead of running until the test's process is stopped."""
    reads = [0]

    class Counted(Token):
        __slots__ = ()

        def __getattribute__(self, name):
            if name == "type":
                reads[0] += 1
                if reads[0] > times:
                    raise AssertionError(f"the paragraph's {len(tokens)} tokens read more than {times} times")
            return super().__getattribute__(name)

    return [Counted(**{f.name: getattr(t, f.name) for f in dataclasses.fields(Token)}) for t in tokens]


def test_a_markdown_paragraph_is_read_back_once_through():
    """Each token a few times at most, links and code included: the reading goes forward."""
    md = [t for t in parser().parse("Un **mot**, `du code` et [un lien](https://a.fr).") if t.type == "inline"][0]
    assert source(_read_at_most(md.children, 20 * len(md.children))) == "Un **mot**, `du code` et [un lien](https://a.fr)."


def test_markup_is_read_the_same_way_for_the_text_the_html_and_a_markdown_guide():
    assert written_form(MARKED) == MARKED_WRITTEN
    assert to_html(MARKED) == MARKED_HTML
    assert stressed(MARKED) == [("vos droits", "**"), ("en italique", "*"), ("Le 3919", "**")]
    md = [t for t in parser().parse(MARKED) if t.type == "inline"][0]
    assert source(_read_at_most(md.children, 20 * len(md.children))) == MARKED_SOURCE


@pytest.mark.parametrize("text,written,html,said", [
    # An address in angle brackets shows without its scheme, http as https.
    ("Voir <http://www.ameli.fr>.", "Voir www.ameli.fr.", 'Voir <a href="http://www.ameli.fr">www.ameli.fr</a>.',
     "Voir ameli point f r."),
    # A link whose text is its own address, written shorter or in another form, is shown and said once.
    ("Voir [ameli.fr](https://www.ameli.fr).", "Voir ameli.fr.", 'Voir <a href="https://www.ameli.fr">ameli.fr</a>.',
     "Voir ameli point f r."),
    ("Appelez le [01 23 45 67 89](tel:+33123456789).", "Appelez le 01 23 45 67 89.",
     'Appelez le <a href="tel:+33123456789">01 23 45 67 89</a>.',
     "Appelez le zéro un, vingt-trois, quarante-cinq, soixante-sept, quatre-vingt-neuf."),
    # A soft hyphen pasted from a word processor is seen nowhere, not even in the HTML transcript.
    ("La télé\u00adconsultation à domicile.", "La téléconsultation à domicile.", "La téléconsultation à domicile.",
     "La téléconsultation à domicile."),
])
def test_a_link_or_a_pasted_word_reads_as_a_reader_sees_it(text, written, html, said):
    assert (written_form(text), to_html(text), normalize(written_form(text))) == (written, html, said)


def test_an_apostrophe_from_any_keyboard_is_written_and_said_as_one():
    """The modifier-letter apostrophe (some phones and Mac keyboards) reads as the usual one in the transcript."""
    assert [written_form(t) for t in ("Venez à lʼhôpital.", "Venez à l’hôpital.")] == ["Venez à l'hôpital."] * 2
    assert normalize("Venez à lʼhôpital.") == "Venez à l'hôpital."


def test_a_markdown_heading_that_is_a_link_is_announced_by_its_words():
    """A page title is the heading's words, without the address: that is what the announcement says."""
    from audioguide.guide import parse_guide
    from audioguide.guide.markdown import parse_markdown

    md = ("---\ntitle: T\npublisher: P\ndescription: D\ndate: 2024-01-01\n---\n# Vos droits\n"
          "## Le site [ameli](https://www.ameli.fr)\n\nVos remboursements en ligne.\n\n"
          "## [Mon espace santé](https://www.monespacesante.fr)\n\nVotre carnet.\n")
    guide = parse_guide(parse_markdown(md, "g.md"), "g.md", "g")
    [page1, page2] = ScriptWriter(guide).chapter(guide.chapters[-1])
    assert [s.text for s in page1.segments + page2.segments][:5] == [
        "Sujet un : Vos droits.", "Page un sur deux : le site ameli", "Vos remboursements en ligne.",
        "Page deux : mon espace santé", "Votre carnet."]


# --- when each caption inside a clip shows -------------------------------------------------------------------

@needs_espeak
def test_a_caption_inside_a_clip_shows_when_the_voice_says_its_first_word():
    """espeak-ng is given the voice-only forms ("mail" said "mèl", "wifi" "ouifi"): a shorter text, yet the
    second caption starts with the engine's own "consultation", not a word early or late."""
    from audioguide.narration.captions import caption_times
    from audioguide.narration.lexicon import Voice
    from audioguide.tts import espeak_words

    guide = load_guide(DATA / "script")
    [seg] = ScriptWriter(guide).prompt("Envoyez un mail à votre médecin traitant avec le compte rendu de la dernière "
                                       "consultation et le wifi de la maison pour le suivi")
    first = "Envoyez un mail à votre médecin traitant avec le compte rendu de la dernière"
    second = "consultation et le wifi de la maison pour le suivi"
    assert seg.captions() == [(first, first), (second, second + ".")]
    voiced = Voice(guide.lexicon, phonemes=True)(seg.text)
    assert "un mèl" in voiced and "le ouifi" in voiced
    audio, words = espeak_words.synth(voiced, "fr", 145, 50)
    said_at = dict((pos, t) for pos, t in words)[voiced.index("consultation")]
    end = 2.0 + len(audio) / 2 / 22050
    assert caption_times(seg, voiced, words, origin=2.0, start=2.05, end=end) == [
        {"start": 2.05, "end": round(2.0 + said_at, 3), "written": first},
        {"start": round(2.0 + said_at, 3), "end": round(end, 3), "written": second}]
    # An engine without word timings: the cut in proportion to the characters said.
    at = round(2.05 + (end - 2.05) * seg.cuts[0][1] / len(seg.text), 3)
    assert [(c["start"], c["end"]) for c in caption_times(seg, voiced, [], 2.0, 2.05, end)] == \
        [(2.05, at), (at, round(end, 3))]


def test_a_page_reads_as_written_one_sentence_a_line():
    """The transcript a reader sees: the guide's words with digits, no spoken forms ("15", not "quinze")."""
    guide = load_guide(DATA / "script")
    page = ScriptWriter(guide).chapter(guide.chapter("c"))[0]
    assert page.written.split("\n") == [
        "Partie 1, Droits. Sujet 1 : Vos données. Page 1 sur 2 : qu'est-ce que c'est ?", "Le principe",
        "Premier point ; second point,", "un", "deux,", "trois", "Le site ameli : www.ameli.fr/assure/droits",
        "Attention :", "Appelez le 15.", "jour", "nuit"]
    assert ScriptWriter(guide).prompt(" ** ** ") == []  # markup with no words says nothing


@pytest.mark.parametrize("text,captions", [
    # "50 ans" and "Madame Sophie Martin" stay on one caption; "de" and "par" go with the words they introduce.
    ("Le dépistage est proposé gratuitement à toutes les femmes âgées de 50 ans qui le demandent à leur médecin.",
     [("Le dépistage est proposé gratuitement à toutes les femmes âgées",) * 2,
      ("de 50 ans qui le demandent à leur médecin.", "de cinquante ans qui le demandent à leur médecin.")]),
    ("Les rendez-vous de suivi sont assurés par Madame Sophie Martin qui reçoit sur rendez-vous.",
     [("Les rendez-vous de suivi sont assurés",) * 2,
      ("par Madame Sophie Martin qui reçoit sur rendez-vous.",) * 2]),
    # A short clause ("Attention,") joins its neighbour, and the two are cut again evenly, never after "par un".
    ("Attention, les documents ajoutés par un professionnel de santé ne peuvent pas être supprimés par vous mais "
     "vous pouvez les masquer à tout moment.",
     [("Attention, les documents ajoutés",) * 2, ("par un professionnel de santé ne peuvent pas être",) * 2,
      ("supprimés par vous mais vous pouvez les masquer à tout moment.",) * 2]),
    # "ou le" moves to the caption of the number it introduces.
    ("Oui, en cas d'urgence vitale appelez immédiatement le 15 ou le 112 depuis n'importe quel téléphone même sans "
     "carte SIM.",
     [("Oui, en cas d'urgence vitale appelez immédiatement le 15",
       "Oui, en cas d'urgence vitale appelez immédiatement le quinze"),
      ("ou le 112 depuis n'importe quel téléphone même sans carte SIM.",
       "ou le cent douze depuis n'importe quel téléphone même sans carte S.I.M.")]),
])
def test_a_caption_never_parts_a_number_from_its_noun_nor_a_name(text, captions):
    [seg] = ScriptWriter(load_guide(DATA / "script")).prompt(text)
    assert seg.captions() == captions


@needs_espeak
def test_the_speech_audit_says_why_espeak_failed():
    from audioguide.exceptions import EngineError
    from audioguide.narration.audit import phonemise

    with pytest.raises(EngineError) as err:
        phonemise(["Bonjour."], voice="zz-nothing")
    assert str(err.value) == "espeak-ng failed while phonemising: Error: The specified espeak-ng voice does not exist."
    with pytest.raises(EngineError) as err:  # a sentence that is the audit's own separator
        phonemise(["Ouagadougou Ouagadougou Ouagadougou."])
    assert str(err.value) == ("espeak-ng's phoneme output could not be matched to the sentences.\n"
                              "Probable cause: 2 results for 1 sentences")


def test_the_speech_audit_without_espeak_says_how_to_install_it(tmp_path, monkeypatch):
    from audioguide.exceptions import EngineError
    from audioguide.narration.audit import phonemise

    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without espeak-ng
    with pytest.raises(EngineError) as err:
        phonemise(["Bonjour."])
    assert (err.value.message, err.value.fix) == (
        "espeak-ng not found: the speech audit uses its phonemiser.",
        "install it with: apt-get install espeak-ng (or run script/bootstrap)")


# --- everyday instructions, said as a French listener expects -----------------------------------------------

@pytest.mark.parametrize("written,said", [
    ("Prenez 1 c. à s. de sirop le matin et 2 c. à c. le soir.",
     "Prenez une cuillère à soupe de sirop le matin et deux cuillères à café le soir."),
    ("C. à s. : une cuillère rase.", "Cuillère à soupe : une cuillère rase."),
    ("Prenez 1,5 c. à s. de sirop.", "Prenez un virgule cinq cuillère à soupe de sirop."),
    ("Marchez 15 min. chaque jour.", "Marchez quinze minutes chaque jour."),
    ("Une pause de 1 min. Puis reprenez.", "Une pause d'une minute. Puis reprenez."),
    ("Comptez 2,5 min. de cuisson.", "Comptez deux virgule cinq minutes de cuisson."),
    ("Prenez 1 ½ comprimé le soir pendant 1 ½ heure, puis ½ comprimé.",
     "Prenez un comprimé et demi le soir pendant une heure et demie, puis un demi comprimé."),
    ("Versez 2 ¾ de verre ou ⅓ de tasse.", "Versez deux et trois quarts de verre ou un tiers de tasse."),
    ("Prenez 1 ½ à jeun.", "Prenez un et demi à jeun."),
    ("Appelez le 01 05 00 13 13 ou le 3005.",
     "Appelez le zéro un, zéro cinq, zéro zéro, treize, treize ou le trente zéro cinq."),
])
def test_everyday_instructions_are_said_in_full(written, said):
    assert normalize(written) == said


@needs_espeak
def test_one_problem_is_counted_in_the_singular(tmp_path):
    report = audit(_guide(tmp_path, [{"p": "Le TPE de la pharmacie accepte la carte Vitale."}]))
    assert report.problems == 1 and report.lines()[-1] == "1 problem."


def test_each_sentence_knows_its_block_for_the_talking_book():
    """The talking book puts each sentence in the block the guide writes it in: a callout's label in the
    callout, its paragraph and list items inside it; the frame in none."""
    guide = load_guide(DATA / "script")
    page = ScriptWriter(guide).chapter(guide.chapter("c"))[0]
    assert [s.block for s in page.segments] == [None, None, None, [0], [1], [2, 0], [2, 1], [2, 2], [3], [4],
                                                [4, 0], [4, 1, 0], [4, 1, 1]]


def test_an_address_longer_than_a_caption_line_is_cut_rather_than_overflow():
    from audioguide.narration.captions import wrap_caption

    assert wrap_caption("Formulaire https://www.formulaires.service-public.fr/gf/cerfa_15692.do puis envoyez-le signé "
                        "à votre caisse.") == ["Formulaire", "https://www.formulaires.service-public.fr/",
                                               "gf/cerfa_15692.do puis envoyez-le signé à", "votre caisse."]
