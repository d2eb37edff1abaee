"""French number words: cardinals (with agreement), decimals, ordinals, Roman numerals, phone pairs."""

from __future__ import annotations

import re

from num2words import num2words

_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
ROMAN_RE = r"(?=[IVXLCDM])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"


def cardinal(n: int, feminine: bool = False) -> str:
    """12 -> 'douze'; 21, feminine -> 'vingt et une'; 80 -> 'quatre-vingts'."""
    if n < 0:
        return "moins " + cardinal(-n, feminine)
    words = num2words(n, lang="fr")
    if feminine and re.search(r"(?:^|[\s-])un$", words):
        words = words[:-2] + "une"
    return words


def digits_to_int(s: str) -> int:
    """'10 000', '10.000', '1\u202f500' -> int; separators between groups of three."""
    return int(re.sub(r"[\s.\u00a0\u202f]", "", s))


def decimal(int_part: str, frac_part: str, feminine: bool = False) -> str:
    """('1', '26') -> 'un virgule vingt-six'; leading zeros of the fraction are read ('zéro cinq')."""
    whole = cardinal(digits_to_int(int_part), feminine and not frac_part)
    zeros = len(frac_part) - len(frac_part.lstrip("0"))
    rest = frac_part.lstrip("0")
    spoken = ["zéro"] * zeros
    if rest:
        # A long fraction is read digit group as a number, as people do up to three digits.
        spoken.append(cardinal(int(rest)) if len(rest) <= 3 else " ".join(cardinal(int(d)) for d in rest))
    return f"{whole} virgule {' '.join(spoken)}"


def ordinal(n: int, feminine: bool = False) -> str:
    """1 -> 'premier'/'première'; 2 -> 'deuxième'; 21 -> 'vingt et unième'."""
    if n == 1:
        return "première" if feminine else "premier"
    return num2words(n, lang="fr", to="ordinal")


def roman_to_int(s: str) -> int:
    total, prev = 0, 0
    for ch in reversed(s):
        v = _ROMAN[ch]
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return total


def phone_pairs(digits: str) -> str:
    """'0123456789' -> 'zéro un, vingt-trois, quarante-cinq, soixante-sept, quatre-vingt-neuf'."""
    groups = [digits[i:i + 2] for i in range(0, len(digits), 2)]
    out = []
    for g in groups:
        if len(g) == 2 and g[0] == "0":
            out.append(f"zéro {cardinal(int(g[1]))}")
        else:
            out.append(cardinal(int(g)))
    return ", ".join(out)


def short_number(digits: str) -> str:
    """Service numbers: '3422' -> 'trente-quatre vingt-deux', '15' -> 'quinze', '112' -> 'cent douze'."""
    if len(digits) == 4:
        return f"{_said(digits[:2])} {_said(digits[2:])}"
    if len(digits) == 6:  # 116 006: "cent seize, zéro zéro six"
        return ", ".join(_said(digits[i:i + 3]) for i in (0, 3))
    return cardinal(int(digits))


def _said(group: str) -> str:
    """A group of digits as printed: its leading zeros are said ('006' -> 'zéro zéro six')."""
    zeros = len(group) - len(group.lstrip("0"))
    return " ".join(["zéro"] * min(zeros, len(group) - 1) + [cardinal(int(group))])
