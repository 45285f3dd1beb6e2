"""Personal data and abuse in residents' comments: find it, redact it, flag it for a moderator.

Survey open answers, map comments, workshop notes and imported Polis comments are checked
before anything is public (issue 3, item 6). This module is the rule-based first pass of that
moderation queue: it finds, it redacts personal data, and it says why a comment needs a person
to look at it. It never rejects anything by itself.

Personal data (:func:`find_personal_data`, each a :class:`Finding`; ``rule`` names the rule):

``email``
    ``email`` (``name@example.org``) and ``email-obfuscated`` (``name [at] example [dot] org``,
    ``name at example dot com``, ``arroba``/``punto``).
``phone``
    ``phone-nanp`` (North American numbers with or without +1, parentheses, dots, dashes,
    spaces, an extension), ``phone-nanp-local`` (seven digits with a dash or dot),
    ``phone-international`` (``+`` and a country code, 8-15 digits), ``phone-national`` (a
    trunk 0 as in ``010-1234-5678``, ``0903 123 456``, ``020 7946 0958``), and
    ``phone-after-cue`` (7-15 digits right after "call", "text", "tel", "teléfono", "số điện
    thoại", "전화", "телефон"...). Years, times, money, counts, percentages, dates, ZIP codes,
    911/311 and ranges followed by a unit ("200-1000 people") are not phones.
``street_address``
    ``address-house-number`` (a house number, an optional direction, one to four capitalised
    or numbered street words and a street suffix: "1234 S Yakima Ave", "4502 North 26th
    Street", "123 Main St. Apt 4", "901 Broadway", "4502 N 26th"), ``address-after-cue`` (the
    same in lower case after "I live at", "my address is", "vivo en"...), and ``po-box``.
    Intersections, blocks ("the 3800 block of Pacific Ave"), streets without a house number
    and landmarks are *not* flagged: residents name places on purpose. A number that reads as
    a year ("in 2019 South Tacoma Way...") or a label ("District 3", "Action 2", "Route 1") is
    not a house number.
``person_name``
    Capitalised words right after a cue: ``relationship+name`` ("my neighbour John Smith",
    "my landlord, Maria", "my 15-year-old son Tyler", "mi vecino Juan", "hàng xóm tôi Lan",
    "мой сосед Иван"), ``named+name`` ("the guy named Dave", "his name is", "se llama",
    "tên là", "зовут"), ``title+name`` ("Officer Jones", "Sgt. Ruiz", "Mrs. Patterson",
    "oficial Ramírez", "ông Tuấn"), ``signoff+name`` (the line after "Sincerely,", "Thanks,",
    "Atentamente,"), and ``name-repeated`` (the same name elsewhere in the comment, except at
    the start of a sentence). Sentence starts, place names (Hilltop,
    Tacoma, South End...), nationalities and common words after a cue are not names; a name
    followed by a place word ("Lincoln High School", "Wright Park") is a place.
``url``
    ``url`` (``http(s)://``, ``www.``, or a bare domain with a path such as
    ``facebook.com/someone``).
``license_plate``
    ``plate-after-cue`` (letters and digits within a few words after "plate", "license
    plate", "placa", "matrícula", "biển số") and ``plate-shape`` (Washington's ``ABC1234``).
``id_number``
    ``ssn`` (``123-45-6789``), ``card-number`` (13-19 digits passing the Luhn check),
    ``id-after-cue`` (after "case number", "license #", "ID", "número de caso"...), and
    ``long-digit-run`` (nine or more digits in a row that are not a phone).

Overlapping matches become one span, their union, so nothing any rule matched is left
half-redacted; the span takes the kind of the more specific rule (a URL over the e-mail inside
it, an address over a name inside it) and ``rule`` lists every rule merged.

Abuse (:func:`find_abuse`, each an :class:`AbuseFinding`): ``threat`` (first-person intent
to kill, shoot, stab, hurt...; "should be shot", "deserve to die" unless negated as in "no
child should be shot"; "kill yourself"; "I know where you live"; Spanish "te voy a matar",
"hay que matarlos", "ojalá se mueran"; Russian/Ukrainian "убью", "вб'ю"), ``slur`` (a short
list of unambiguous slurs, stored ROT13-encoded in ``_SLURS_ROT13`` so that the source does
not print them; ``codecs.decode(word, "rot13")`` shows them to a reviewer), and
``profanity`` (English, Spanish and Russian swear words, also spelt ``f*ck``, ``sh1t``,
``fuuuck``). What matched is returned so a moderator can decide.

:func:`redact` replaces each personal-data span with a placeholder from
:data:`PLACEHOLDERS` (English constants; the interface translates them). Redacting a
redacted text changes nothing more, and a placeholder never repeats what it replaced.
:func:`moderation_check` runs both and says whether a person must review the comment.

Text is matched on a length-preserving folding of the comment (any Unicode decimal digit
to 0-9, full-width forms to ASCII, Unicode dashes to "-", Unicode spaces to " "), so a phone
number in Khmer or full-width digits is found and offsets still point into the original.
Repetition in every pattern is bounded or unambiguous and each pattern can start only at a
token boundary, so the time is linear in the length of the text: 0.1-0.3 s for 100 kB of
adversarial input (the tests hold it under a second).

Known limits, honestly:

* Names are found only after a cue and only when capitalised. Korean and Khmer have no
  capital letters, so names in them are not found; Vietnamese and Russian/Ukrainian cues are
  few; names in ALL-CAPS text and names in lower case ("my neighbor john") are missed.
* Addresses are US-style (a house number first). Addresses written the Latin American or
  Vietnamese way ("Calle 5 #23-45", "số 12 đường Lê Lợi") are not found, nor is a house
  number without a street suffix ("1234 Pacific").
* The e-mail local part must be ASCII; URLs stop at the first non-ASCII character.
* Handles ("@someone") and zero-width characters inserted to dodge the rules are not
  handled.
* Names without a cue are missed ("please call Rosa at..."), as are names on a line of
  their own above an address when no sign-off precedes them.
* A number that happens to fit a phone or ID pattern (a ten-digit reference number, a
  case number) is flagged: a moderator restores it. Public numbers (the city's own line, a
  crisis line) and public officials after a title ("Mr. Adler", "Chief Moore") are flagged
  too; "Mayor" and "Council Member" are not cues.
* Abuse lists are short and self-written; idioms ("I will kill time"), sarcasm, coded
  language and abuse in Vietnamese, Korean or Khmer are beyond them. A threat reported in
  the third person ("he said he will kill me") is not flagged; "I will kill" is.

Example:

>>> comment = "My neighbor John Smith at 1234 S Yakima Ave: call 253-555-0100."
>>> result = moderation_check(comment)
>>> result.text
'My neighbor [name removed] at [address removed]: call [phone removed].'
>>> result.needs_review, result.reasons
(True, ('personal_data:phone', 'personal_data:street_address', 'personal_data:person_name'))
>>> [(f.kind, f.text, f.rule) for f in find_personal_data("Officer Jones, mail a.b@example.org")]
[('person_name', 'Jones', 'title+name'), ('email', 'a.b@example.org', 'email')]
>>> find_personal_data("The corner of 38th and Pacific, by Lincoln High School, in 2024")
()
>>> [(a.kind, a.text) for a in find_abuse("They should be shot.")]
[('threat', 'should be shot')]
>>> redact("Llámame al +52 55 1234 5678").text
'Llámame al [phone removed]'
"""

# The rules read comments in seven languages: the Cyrillic, Vietnamese and typographic
# characters in the patterns and word lists below are deliberate, not look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import bisect
import codecs
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, get_args

PersonalDataKind = Literal[
    "email", "phone", "street_address", "person_name", "url", "license_plate", "id_number"
]
AbuseKind = Literal["threat", "slur", "profanity"]

PERSONAL_DATA_KINDS: Final[tuple[PersonalDataKind, ...]] = get_args(PersonalDataKind)
ABUSE_KINDS: Final[tuple[AbuseKind, ...]] = get_args(AbuseKind)

#: What replaces each kind of personal data in the public text. English constants: the
#: interface translates them. None contains anything of the text it replaces.
PLACEHOLDERS: Final[Mapping[PersonalDataKind, str]] = MappingProxyType(
    {
        "email": "[email removed]",
        "phone": "[phone removed]",
        "street_address": "[address removed]",
        "person_name": "[name removed]",
        "url": "[link removed]",
        "license_plate": "[plate removed]",
        "id_number": "[ID number removed]",
    }
)


@dataclass(frozen=True)
class Finding:
    """One span of personal data in a comment.

    Fields:
        kind: what it is, one of ``PERSONAL_DATA_KINDS``.
        start, end: the span in the text as given, so ``text[start:end] == finding.text``.
        text: what matched, for the moderator; it is never shown publicly.
        rule: the rule that matched (listed in the module docstring), for the moderator; where
            overlapping matches were merged into one span, every rule, most specific first,
            joined by ", ".
    """

    kind: PersonalDataKind
    start: int
    end: int
    text: str
    rule: str

    def __post_init__(self) -> None:
        if self.kind not in PERSONAL_DATA_KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {PERSONAL_DATA_KINDS}")
        if not 0 <= self.start < self.end or len(self.text) != self.end - self.start:
            raise ValueError(
                f"span {self.start}:{self.end} does not fit text {self.text!r} "
                "(expected 0 <= start < end and len(text) == end - start)"
            )


@dataclass(frozen=True)
class AbuseFinding:
    """One span of possible abuse, for a moderator to judge.

    Fields:
        kind: ``threat``, ``slur`` or ``profanity``.
        start, end: the span in the text as given (``text[start:end] == finding.text``).
        text: what matched.
        rule: the rule or word list that matched.
    """

    kind: AbuseKind
    start: int
    end: int
    text: str
    rule: str


@dataclass(frozen=True)
class Redaction:
    """A comment with its personal data replaced by placeholders.

    Fields:
        text: the redacted text; each span is replaced by ``PLACEHOLDERS[kind]``.
        findings: the spans that were replaced, in the original text's offsets, in order.
        changed: whether anything was replaced.
    """

    text: str
    findings: tuple[Finding, ...]
    changed: bool


@dataclass(frozen=True)
class ModerationResult:
    """What the moderation queue needs to know about one comment.

    Fields:
        needs_review: True when anything was found (personal data or abuse): a person must
            look before the comment is public.
        reasons: why, as stable codes: ``abuse:<kind>`` for each abuse kind found (threat,
            slur, profanity in that order), then ``personal_data:<kind>`` for each kind of
            personal data (in ``PERSONAL_DATA_KINDS`` order). Empty when nothing was found.
        text: the redacted text (abuse is reported, not removed: the moderator decides).
        personal_data: the personal-data findings.
        abuse: the abuse findings.
        method: how the check was made.
    """

    needs_review: bool
    reasons: tuple[str, ...]
    text: str
    personal_data: tuple[Finding, ...]
    abuse: tuple[AbuseFinding, ...]
    method: str = "rule-based (bounded regular expressions and short word lists)"


# --- Folding: a same-length ASCII view of the text, so offsets stay valid -------------------


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x80, 0x10000):
        char = chr(code)
        if char.isdecimal():
            table[code] = str(unicodedata.decimal(char))
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[code] = chr(code - 0xFEE0)
    for code in (*range(0x2010, 0x2016), 0x2212, 0xFE58, 0xFE63):
        table[code] = "-"
    for code in (0x00A0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000):
        table[code] = " "
    return table


_FOLD: Final = _fold_table()


def _fold(text: str) -> str:
    return text.translate(_FOLD)  # every value is one character: length is preserved


# --- Personal data rules --------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A placeholder in the text (from an earlier redaction) is masked with this letter before the
# rules run: IDEOGRAPHIC NUMBER ZERO is a word character but no digit and no capital.
_PLACEHOLDER: Final = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
_MASK: Final = "\u3007"

# (start, end, kind, rule) before overlaps are resolved
_Candidate = tuple[int, int, PersonalDataKind, str]

# Lower rank wins an overlap (the more specific rule), then the longer span.
_RULE_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {
        "url": 0,
        "email": 1,
        "email-obfuscated": 2,
        "address-house-number": 3,
        "address-after-cue": 3,
        "po-box": 3,
        "ssn": 4,
        "card-number": 4,
        "phone-nanp": 5,
        "phone-international": 5,
        "phone-national": 5,
        "phone-nanp-local": 6,
        "plate-after-cue": 6,
        "id-after-cue": 7,
        "phone-after-cue": 8,
        "plate-shape": 8,
        "long-digit-run": 9,
        "title+name": 10,
        "relationship+name": 10,
        "named+name": 10,
        "signoff+name": 10,
        "name-repeated": 11,
    }
)

_EMAIL: Final = re.compile(
    r"(?<![A-Za-z0-9._%+\-])"
    r"[A-Za-z0-9_%+\-](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
)
_LOCAL_PART: Final = r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]{0,63}"
_OBF_TLD: Final = r"(?i:com|org|net|edu|gov|us|io|co|mx|info|biz|me|vn|kr|ru|ua)(?![A-Za-z0-9])"
# "name [at] host [dot] org", "name (at) host.org": the bracket is the signal
_EMAIL_BRACKETED: Final = re.compile(
    _LOCAL_PART + r"[ \t]{0,2}[\[({<][ \t]?(?i:at|arroba)[ \t]?[\])}>][ \t]{0,2}"
    r"[A-Za-z0-9\-]{1,63}[ \t]{0,2}(?:[\[({<][ \t]?(?i:dot|punto)[ \t]?[\])}>]|\.)[ \t]{0,2}"
    + _OBF_TLD
)
# "name at host dot com": spelt-out words on both sides, so "met them at church. Co-..." is safe
_EMAIL_SPELT: Final = re.compile(
    _LOCAL_PART + r"[ \t]{1,2}(?i:at|arroba)[ \t]{1,2}[A-Za-z0-9\-]{1,63}"
    r"[ \t]{1,2}(?i:dot|punto)[ \t]{1,2}" + _OBF_TLD
)

_URL_CHARS: Final = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_URL: Final = re.compile(
    r"(?<![A-Za-z0-9@._\-/])"
    r"(?:(?i:https?://|www\.)" + _URL_CHARS + r"{1,2048}"
    r"|(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,4}"
    r"(?i:com|org|net|gov|edu|io|us|me|co|ly|gl|tv|app|info)/" + _URL_CHARS + r"{1,2048})"
)
_URL_TRAILING: Final = ".,;:!?'\"*"

# Before and after a number: not glued to other digits, letters, money, decimals, fractions.
_NUM_BEFORE: Final = r"(?<![0-9A-Za-z_.,/$€£¥+\-])"
_NUM_AFTER: Final = r"(?![0-9]|[.,/][0-9]|[A-Za-z%°])"
_PHONE_NANP: Final = re.compile(
    _NUM_BEFORE + r"(?:\+?1[ \t.\-]{0,2})?"
    r"(?:\([2-9][0-9]{2}\)[ \t]?|[2-9][0-9]{2}[ \t.\-/]?)"
    r"[2-9][0-9]{2}[ \t.\-/]?[0-9]{4}"
    r"(?:[ \t]{0,2}(?i:ext\.?|x|extension)[ \t]{0,2}[0-9]{1,5})?" + _NUM_AFTER
)
_PHONE_LOCAL: Final = re.compile(_NUM_BEFORE + r"[2-9][0-9]{2}[.\-][0-9]{4}" + _NUM_AFTER)
_PHONE_INTERNATIONAL: Final = re.compile(
    r"(?<![\w+])\+[1-9][0-9]{0,2}"
    r"(?:(?:[ \t.\-]?\([0-9]{1,5}\)[ \t.\-]?[0-9]{1,5})?(?:[ \t.\-][0-9]{1,5}){1,6}"
    r"|[0-9]{7,12})" + _NUM_AFTER
)
_PHONE_NATIONAL: Final = re.compile(
    _NUM_BEFORE
    + r"(?:0[0-9]{1,4}|\(0[0-9]{1,4}\))[ \t.\-]?[0-9]{3,4}[ \t.\-][0-9]{3,4}"
    + _NUM_AFTER
)
_PHONE_CUE: Final = re.compile(
    r"(?:(?<![A-Za-z])(?i:call|text|txt|phone|cell|mobile|tel|telephone|whatsapp|number"
    r"|ll[aá]m[ae]\w{0,4}|tel[eé]fono|celular|m[oó]vil|n[uú]mero)(?![A-Za-z])"
    r"|(?i:điện thoại|sđt)|전화(?:번호)?|휴대폰|연락처|(?i:телефон\w{0,2}|тел|номер\w{0,2}"
    r"|звоните|дзвоніть)|ទូរស័ព្ទ|លេខ)"
    r"[ \t]{0,3}(?:(?i:is|es|:|#|là|는|은|-|at|al|a|to|de)[ \t]{0,3}){0,2}"
    r"(\+?\(?[0-9][0-9 \t().\-]{5,22}[0-9])(?![0-9])"
)
_UNIT_WORDS: Final = _words(
    "people persons residents calls dollars usd homes houses units households feet ft miles"
    " mi meters km hours hrs minutes mins min days weeks months years yrs times incidents"
    " cases crimes reports responses votes comments cars vehicles students kids youth"
    " members sq square acres personas llamadas dólares casas años días horas minutos"
)
_RANGE_WORDS: Final = frozenset({"between", "from", "entre"})

_SSN: Final = re.compile(
    r"(?<![0-9A-Za-z\-])(?!000|666|9[0-9]{2})[0-9]{3}([\- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}"
    r"(?![0-9]|-[0-9])"
)
_CARD: Final = re.compile(r"(?<![0-9A-Za-z.,\-])(?:[0-9][ \-]?){12,18}[0-9](?![0-9])")
_LONG_DIGITS: Final = re.compile(r"(?<![0-9A-Za-z.,$\-])[0-9]{9,}(?![0-9]|[.,][0-9])")
_ID_CUE: Final = re.compile(
    r"(?:(?<![A-Za-z])(?i:(?:case|report|incident|claim|account|acct|policy|member|customer"
    r"|licen[cs]e|driver['’]?s[ \t]+licen[cs]e|passport|permit|booking|inmate|student)"
    r"[ \t]*(?:number|no\.?|num\.?|#)|ssn|social[ \t]+security(?:[ \t]+number)?"
    r"|n[uú]mero[ \t]+de[ \t]+(?:caso|reporte|licencia|pasaporte|seguro[ \t]+social|cuenta))"
    r"|(?<![A-Za-z])(?:ID|DL)(?:[ \t]*(?i:number|no\.?|#))?)"
    r"(?![A-Za-z])[ \t]{0,3}(?:(?i:is|es|was)[ \t]{1,3}|[:#][ \t]{0,3})?"
    r"([A-Za-z0-9][A-Za-z0-9\-]{3,24})(?![A-Za-z0-9\-])"
)

_PLATE_CUE: Final = re.compile(
    r"(?<![A-Za-z])(?i:licen[cs]e[ \t]+plates?|plates?|tag[ \t]+(?:number|no\.?|#)|placas?"
    r"|matr[ií]cula|biển[ \t]+số)(?![A-Za-z])"
)
_PLATE_TOKEN: Final = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z0-9]{1,4}[ \-]?[A-Za-z0-9]{2,5})(?![A-Za-z0-9])"
)
# a plate is looked for up to the end of the sentence or a redacted span
_PLATE_WINDOW_STOP: Final = re.compile(r"[.!?;\n](?:\s|$)|" + _MASK)
_PLATE_SHAPE: Final = re.compile(r"(?<![A-Za-z0-9\-])[A-Z]{3}[0-9]{4}(?![A-Za-z0-9\-])")
_ORDINAL_OR_TIME: Final = re.compile(r"[0-9]+(?i:st|nd|rd|th|am|pm|s)")

_HOUSE_NUMBER: Final = r"(?P<number>[0-9]{1,6}(?:-[0-9]{1,4})?[A-Z]?)"
_DIRECTION: Final = (
    r"(?:(?i:north|south|east|west|northeast|northwest|southeast|southwest)"
    r"|NE|NW|SE|SW|N|S|E|W)\.?"
)
_SUFFIX: Final = (
    r"(?i:street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|place"
    r"|pl|parkway|pkwy|highway|hwy|terrace|ter|circle|cir|loop|trail|trl|square|sq|alley|aly"
    r"|plaza|plz|crescent|row|walk|path)\.?"
)
_UNIT: Final = (
    r"(?:,?[ \t]{1,2}(?:(?i:apt|apartment|unit|suite|ste|space|spc|room|rm|bldg|building"
    r"|lot|trailer)\.?[ \t]{0,2}#?[ \t]?|#[ \t]?)[A-Za-z0-9][A-Za-z0-9\-]{0,5})?"
)
_ORDINAL: Final = r"[0-9]{1,3}(?i:st|nd|rd|th)"


def _address_pattern(word: str) -> str:
    street = word + r"(?:[ \t]{1,3}" + word + r"){0,3}"
    return (
        r"(?<![A-Za-z0-9$#.,:/+\-])" + _HOUSE_NUMBER + r"[ \t]{1,3}"
        r"(?:(?:"
        + _DIRECTION
        + r"[ \t]{1,3})?(?P<street>"
        + street
        + r")[ \t]{1,3}"
        + _SUFFIX
        + r"(?:[ \t]{1,3}(?:NE|NW|SE|SW|N|S|E|W)(?![A-Za-z]))?"
        r"|" + _DIRECTION + r"[ \t]{1,3}" + _ORDINAL + r"|(?:" + _DIRECTION + r"[ \t]{1,3})?"
        r"Broadway)" + _UNIT + r"(?![A-Za-z0-9])"
    )


# Street words are capitalised or numbered ("Yakima", "A", "26th", "Jr.")...
_ADDRESS: Final = re.compile(_address_pattern(r"(?:[A-Z][A-Za-z'’\-]{0,24}\.?|" + _ORDINAL + ")"))
# ...except right after "I live at", where lower case is trusted.
_ADDRESS_ANY_CASE: Final = re.compile(
    _address_pattern(r"(?:[A-Za-z][A-Za-z'’\-]{0,24}\.?|" + _ORDINAL + ")")
)
_ADDRESS_CUE: Final = re.compile(
    r"(?i:\b(?:i|we|they|he|she)[ \t]+(?:live|lives|lived|stay|stays|am|are|is)[ \t]+(?:at|on)"
    r"|\b(?:my|our|his|her|their)[ \t]+(?:address|house|home|apartment|apt)[ \t]+"
    r"(?:is[ \t]+)?(?:at|on)?|\baddress[ \t]*:|\b(?:vivo|vive|viven|vivimos)[ \t]+en"
    r"|\b(?:mi|su|nuestra)[ \t]+(?:direcci[oó]n|casa)[ \t]+(?:es[ \t]+)?(?:en)?"
    r"|\bdirecci[oó]n[ \t]*:)[ \t]*"
)
_PO_BOX: Final = re.compile(
    r"(?<![A-Za-z0-9])(?i:p\.?[ \t]?o\.?[ \t]?box|post[ \t]+office[ \t]+box"
    r"|apartado(?:[ \t]+postal)?)[ \t]{0,2}#?[ \t]{0,2}[0-9]{1,7}(?![0-9])"
)
_YEAR_WORDS: Final = _words(
    "in since by until till of during from before after around circa to en desde hasta año para"
)
_LABEL_WORDS: Final = _words(
    "district goal action objective sector route ward zone phase step page no number unit"
    " grade level priority item question q bus line chapter section year years distrito the"
    " meta objetivo acción ruta"
)
_TIME_WORDS: Final = frozenset({"am", "pm", "a.m.", "p.m."})
# words that do not occur in a street's name (all-caps prose otherwise looks like one)
_STREET_STOPWORDS: Final = _words(
    "the to that are and of for in on at is was with from by it this be we i my you or not all"
)

# --- Names --------------------------------------------------------------------------------

_RELATIONSHIP_EN: Final = (
    r"(?:(?:next[ \-]door[ \t]+)?neighbou?r|landlord|landlady|property[ \t]+manager"
    r"|building[ \t]+manager|manager|boss|supervisor|co-?worker|colleague|roommate|housemate"
    r"|flatmate|tenant|ex|ex-?(?:husband|wife|partner|boyfriend|girlfriend)|husband|wife"
    r"|spouse|partner|boyfriend|girlfriend|fianc[eé]e?|son|daughter|step(?:son|daughter"
    r"|brother|sister|mom|dad|mother|father)|kid|child|brother|sister|mom|mum|mother|dad"
    r"|father|cousin|uncle|aunt|auntie|nephew|niece|grandson|granddaughter|grandma|grandpa"
    r"|grandmother|grandfather|friend|caseworker|case[ \t]+manager|social[ \t]+worker"
    r"|teacher|coach|counsell?or)s?"
)
_RELATIONSHIP_ES: Final = (
    r"(?:vecin[oa]s?|caser[oa]s?|arrendador(?:a|es)?|due[ñn][oa]s?|jef[ea]s?|patr[oó]n"
    r"|hij[oa]s?|espos[oa]s?|marido|novi[oa]s?|pareja|herman[oa]s?|prim[oa]s?|t[ií][oa]s?"
    r"|mam[aá]|pap[aá]|madre|padre|abuel[oa]s?|amig[oa]s?|compa[ñn]er[oa]s?(?:[ \t]+de[ \t]+"
    r"cuarto)?|sobrin[oa]s?|niet[oa]s?|ex-?(?:espos[oa]|novi[oa]|pareja)|inquilin[oa]s?"
    r"|maestr[oa]s?)"
)
_NAME_SEPARATOR: Final = (
    r"(?:[ \t]*[,:(][ \t]*|[ \t]+)"
    r"(?:(?:named|called|by[ \t]+the[ \t]+name[ \t]+of|whose[ \t]+name[ \t]+is"
    r"|(?:que[ \t]+)?se[ \t]+llama|llamad[oa]|de[ \t]+nombre)[ \t]+)?"
)
_RELATIONSHIP_CUE: Final = re.compile(
    r"(?i:\b(?:(?:my|our|his|her|their|your|the|a|an|[a-z]{1,30}['’]s)[ \t]+"
    r"(?:[a-z0-9][a-z0-9\-]{0,20}[ \t]+){0,2}"
    + _RELATIONSHIP_EN
    + r"|(?:mis?|tus?|sus?|nuestr[oa]s?|el|la|los|las|un|una)[ \t]+"
    + _RELATIONSHIP_ES
    + r"|hàng[ \t]+xóm(?:[ \t]+(?:của[ \t]+)?(?:tôi|em|nhà[ \t]+tôi))?(?:[ \t]+tên(?:[ \t]+là)?)?"
    r"|(?:сосед|соседк|сусід|сусідк|хозя|арендодател|орендодав)\w{0,4})\b)" + _NAME_SEPARATOR
)
_NAMED_CUE: Final = re.compile(
    r"(?i:\b(?:(?:guy|man|woman|lady|kid|boy|girl|person|dude|gentleman|individual|someone"
    r"|somebody|fellow|teen|teenager|youth|cop|resident|tenant|neighbou?r|driver|owner"
    r"|homeowner|member)s?[ \t]+(?:named|called|by[ \t]+the[ \t]+name[ \t]+of|who[ \t]+goes"
    r"[ \t]+by)|(?:his|her|their|my)[ \t]+name[ \t]+is|(?:un|una|el|la)[ \t]+(?:señor|señora"
    r"|hombre|mujer|muchach[oa]|chav[oa]|tipo|joven)[ \t]+(?:llamad[oa]|de[ \t]+nombre"
    r"|que[ \t]+se[ \t]+llama)|tên[ \t]+là|зовут|звуть|по[ \t]+имени|на[ \t]+ім['’]я)\b)"
    r"[ \t]*[,:]?[ \t]*"
)
_TITLE_CUE: Final = re.compile(
    r"(?:\b(?i:officer|deputy|sergeant|detective|lieutenant|captain|corporal|trooper|agent"
    r"|chief|professor|pastor|reverend|oficial|agente|sargento|señor|señora|señorita|офицер"
    r"|полицейский|поліцейський)|\b(?:don|doña|ông|bà|anh|chị|cô|chú|Ông|Bà|Anh|Chị|Cô|Chú"
    r"|Miss))\b[ \t]+"
    # abbreviations, with or without their full stop ("Sgt. Ruiz", "Mr Adler")
    r"|\b(?:(?i:ofc|sgt|capt|cpl|mr|mrs|ms|mx|prof|rev|sra?|srta)|Dr|Det|Lt)\b\.?[ \t]+"
)
_SIGNOFF_CUE: Final = re.compile(
    r"(?i:\b(?:sincerely|regards|best[ \t]+regards|kind[ \t]+regards|best[ \t]+wishes"
    r"|respectfully|cheers|thanks|thank[ \t]+you|atentamente|saludos|cordialmente))"
    r"(?:[ \t]*,[ \t]*\n?|[ \t]*\n)[ \t]*"
)
_NAME_TOKEN: Final = re.compile(
    r"[^\W\d_](?:[\w\u0300-\u036f\u1dc0-\u1dff'’\-]{0,40}[\w\u0300-\u036f\u1dc0-\u1dff])?\.?"
)
_NAME_GAP: Final = re.compile(r"[ \t]{1,2}")
_NEXT_WORD: Final = re.compile(r"\.?[ \t]{1,2}([^\W\d_]\w{0,30})")
_PARTICLES: Final = _words("de del la las los van von der da das dos di du le bin ibn al el st")
_CONNECTORS: Final = frozenset({"and", "&", "y", "e", "và", "и", "і", "та"})
_NOT_NAMES: Final = _words(
    # function words, pronouns, common verbs
    "i i'm im i've i'd i'll me my mine he him his she her hers they them their we us our you"
    " your it its the a this that these those there here and but or so if when then than"
    " because yes no not also just who whom whose what where why how which please thanks"
    " thank ok okay hi hello hey sir ma'am maam someone somebody everyone everybody nobody"
    " anyone all some many most every each both other another too very really still even"
    " only again now today tonight yesterday tomorrow last next is was are were be been has"
    " had have does did do can could will would should may might must got get gets went said"
    " says told called keeps lives lived lol omg in on at of for to from with by about after"
    " before since during until into over under near"
    # days and months
    " monday tuesday wednesday thursday friday saturday sunday january february march april"
    " june july august september october november december jan feb mar apr jun jul aug sep"
    " sept oct nov dec"
    # places (Tacoma and around) and directions
    " tacoma hilltop eastside westside northeast northwest southeast southwest north south"
    " east west central downtown uptown midtown proctor stadium salishan ruston fircrest"
    " lakewood puyallup fife parkland spanaway seattle olympia federal university pierce"
    " county washington wa usa america pacific puget sound defiance mckinley hosmer yakima"
    " portland broadway tideflats jblm end"
    # institutions, roles and titles
    " police tpd city council department dept government mayor chief officer officers"
    " sheriff state fbi ice cps dshs metro transit school church court hospital god lord"
    " governor president senator commissioner councilmember councilman councilwoman"
    " representative judge superintendent director citizens citizen seniors housing living"
    " care"
    " mr mrs ms mx miss dr det lt sgt deputy detective sergeant captain"
    # identities, nationalities, languages
    " american african asian black white latino latina latinx hispanic native indigenous"
    " mexican vietnamese cambodian khmer korean russian ukrainian somali filipino samoan"
    " chinese japanese indian christian muslim jewish catholic english spanish lgbtq lgbt"
    " trans gay lesbian"
    # the strategy's own words
    " places people respond response repair prevention healing safety program programs"
    " training services unit team report involved shooting shootings action strategy goal"
    " objective community"
    # Spanish, Vietnamese, Russian/Ukrainian function words and institutions
    " el la los las un una y o pero que yo él ella ellos ellas nosotros usted ustedes es"
    " está son sí también cuando porque siempre nunca todos todo nada policía ciudad calle"
    " barrio vecindario tôi em anh chị ông bà của là và nhà ở có không я он она они мы вы"
    " это но не да нет полиция город поліція місто"
)
# a name whose first word is one of these is a place, unless the word is also a surname
_PLACE_WORDS: Final = _words(
    "office agency street st avenue ave av road rd boulevard blvd drive dr lane ln way court"
    " ct place pl park parks school high elementary middle academy college university center centre"
    " library church temple mosque hospital clinic mall market station store shop"
    " department dept community neighborhood neighbourhood district hill heights bridge"
    " lake plaza square apartments apts homes village tower towers building hall field"
    " stadium gym club foundation council program team county city bay harbor harbour creek"
    " river trail transit terrace gardens garden estates"
)
_SURNAME_PLACE_WORDS: Final = frozenset({"park", "hill", "hall", "field", "lane", "church"})
_SENTENCE_START: Final = re.compile(r"(?:^|[.!?。]['\")\]]?\s+|\n\s*)$")


def _is_proper_noun_phrase(cue: str) -> bool:
    """An article then a capitalised word starts a proper name: the Child Support Office."""
    words = cue.replace(",", " ").split()
    return words[0].lower() in {"the", "a", "an"} and any(word[0].isupper() for word in words[1:])


def _is_name_word(word: str) -> bool:
    if not word[0].isupper() or any(char.isdigit() for char in word):
        return False
    if len(word) > 1 and word.isupper():  # ALL-CAPS: shouting or an acronym, not a name
        return False
    return word.lower().rstrip(".") not in _NOT_NAMES


def _name_after(norm: str, pos: int) -> tuple[int, int] | None:
    """The span of the capitalised name starting at `pos`, or None."""
    words: list[tuple[int, int]] = []
    pending: list[tuple[int, int]] = []  # particles/connectors kept only if a name follows
    cursor = pos
    while len(words) < 4:
        match = _NAME_TOKEN.match(norm, cursor)
        if match is None:
            break
        start, end = match.span()
        word = match.group()
        possessive = word.endswith(("'s", "’s"))
        if possessive:
            word, end = word[:-2], end - 2
        if word.endswith(".") and len(word) > 2:
            word, end = word[:-1], end - 1
        if not word or _MASK in word:
            break
        initial = bool(words) and len(word) == 2 and word[0].isupper() and word[1] == "."
        if initial or _is_name_word(word):
            words.extend(pending)
            pending.clear()
            words.append((start, end))
            if possessive or norm[end : end + 1] in {",", ".", ";", ":"}:
                break
        elif words and (word.lower() in _PARTICLES or word.lower() in _CONNECTORS):
            pending.append((start, end))
        else:
            break
        gap = _NAME_GAP.match(norm, end)
        if gap is None:
            break
        cursor = gap.end()
    if not words:
        return None
    lowered = [norm[start:end].lower().rstrip(".") for start, end in words]
    if any(word in _PLACE_WORDS for word in lowered[1:]):
        return None  # "Lincoln High", "Wright Park": a place
    if lowered[0] in _PLACE_WORDS and lowered[0] not in _SURNAME_PLACE_WORDS:
        return None  # "Sr. Center"
    after = _NEXT_WORD.match(norm, words[-1][1])
    if after is not None and after.group(1)[0].isupper() and after.group(1).lower() in _PLACE_WORDS:
        return None  # "Lincoln High School", "Dr. Martin Luther King Jr. Way": a place
    return words[0][0], words[-1][1]


# --- Finders -----------------------------------------------------------------------------


def _word_before(norm: str, pos: int) -> str:
    """The word before `pos`, lower-cased; "" when there is none or it was redacted."""
    match = re.search(r"([^\W\d_][\w.]{0,20})[ \t]*$", norm[max(0, pos - 24) : pos])
    return match.group(1).lower() if match and _MASK not in match.group(1) else ""


def _word_after(norm: str, pos: int) -> str:
    match = re.match(r"[ \t]*([^\W\d_][\w]{0,20})", norm[pos : pos + 24])
    return match.group(1).lower() if match else ""


def _digits(text: str) -> int:
    return sum(char.isdigit() for char in text)


def _luhn(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _find_emails_and_urls(norm: str) -> Iterator[_Candidate]:
    for match in _EMAIL.finditer(norm):
        yield match.start(), match.end(), "email", "email"
    for pattern in (_EMAIL_BRACKETED, _EMAIL_SPELT):
        for match in pattern.finditer(norm):
            yield match.start(), match.end(), "email", "email-obfuscated"
    for match in _URL.finditer(norm):
        url = match.group()
        while url and (
            url[-1] in _URL_TRAILING
            or (url[-1] == ")" and url.count("(") < url.count(")"))
            or (url[-1] == "]" and url.count("[") < url.count("]"))
        ):
            url = url[:-1]
        if "." in url.split("//")[-1]:
            yield match.start(), match.start() + len(url), "url", "url"


def _find_phones(norm: str) -> Iterator[_Candidate]:
    for pattern, rule in (
        (_PHONE_NANP, "phone-nanp"),
        (_PHONE_LOCAL, "phone-nanp-local"),
        (_PHONE_INTERNATIONAL, "phone-international"),
        (_PHONE_NATIONAL, "phone-national"),
    ):
        for match in pattern.finditer(norm):
            digits = _digits(match.group())
            if rule == "phone-international" and not 8 <= digits <= 15:
                continue
            if rule == "phone-national" and not 9 <= digits <= 12:
                continue
            if _word_after(norm, match.end()) in _UNIT_WORDS:
                continue  # "200-1000 people": a range, not a phone
            if rule == "phone-nanp-local" and _word_before(norm, match.start()) in _RANGE_WORDS:
                continue
            yield match.start(), match.end(), "phone", rule
    for match in _PHONE_CUE.finditer(norm):
        number = match.group(1)
        while _digits(number) > 15 and " " in number:  # "24-0012345 253-555-0100": two numbers
            number = number.rsplit(" ", 1)[0].rstrip(" ().-")
        if (
            7 <= _digits(number) <= 15
            and "  " not in number
            and "\t" not in number
            and _word_after(norm, match.start(1) + len(number)) not in _UNIT_WORDS
        ):
            yield match.start(1), match.start(1) + len(number), "phone", "phone-after-cue"


def _find_id_numbers(norm: str) -> Iterator[_Candidate]:
    for match in _SSN.finditer(norm):
        yield match.start(), match.end(), "id_number", "ssn"
    for match in _CARD.finditer(norm):
        number = re.sub(r"[ \-]", "", match.group())
        groups = [len(group) for group in re.split(r"[ \-]", match.group())]
        grouped = len(groups) == 1 or groups[:-1] == [4] * (len(groups) - 1) or groups[:2] == [4, 6]
        all_years = all(
            re.fullmatch(r"(?:19|20)[0-9]{2}", g) for g in re.split(r"[ \-]", match.group())
        )
        if 13 <= len(number) <= 19 and grouped and not all_years and _luhn(number):
            yield match.start(), match.end(), "id_number", "card-number"
    for match in _LONG_DIGITS.finditer(norm):
        if not re.fullmatch(r"[1-9]0+", match.group()):  # a round number is a count
            yield match.start(), match.end(), "id_number", "long-digit-run"
    for match in _ID_CUE.finditer(norm):
        if _digits(match.group(1)) >= 4:
            yield match.start(1), match.end(1), "id_number", "id-after-cue"


def _find_plates(norm: str) -> Iterator[_Candidate]:
    for match in _PLATE_SHAPE.finditer(norm):
        yield match.start(), match.end(), "license_plate", "plate-shape"
    for cue in _PLATE_CUE.finditer(norm):
        window_end = min(len(norm), cue.end() + 40)
        stop = _PLATE_WINDOW_STOP.search(norm, cue.end(), window_end)
        if stop is not None:
            window_end = stop.start()
        for token in _PLATE_TOKEN.finditer(norm, cue.end(), window_end):
            plate = token.group(1)
            letters = sum(char.isalpha() for char in plate)
            digits = _digits(plate)
            compact = len(plate.replace(" ", "").replace("-", ""))
            parts = re.split(r"[ \-]", plate)
            if len(parts) > 1 and any(char.islower() for char in plate):
                continue  # "at 38th": a separated plate is written in capitals
            if (
                letters
                and digits >= 2
                and 5 <= compact <= 8
                and not any(_ORDINAL_OR_TIME.fullmatch(part) for part in parts)
            ):
                yield token.start(1), token.end(1), "license_plate", "plate-after-cue"
                break


def _find_addresses(norm: str) -> Iterator[_Candidate]:
    def keep(match: re.Match[str]) -> bool:
        number = match.group("number")
        street = [word.lower() for word in (match.group("street") or "").split()]
        before = _word_before(norm, match.start())
        if street and street[0] in _TIME_WORDS:
            return False  # "at 10 PM Pacific Ave gets loud"
        if any(word in _STREET_STOPWORDS or word in _UNIT_WORDS for word in street):
            return False  # "LET 18 WHEELERS TRAVEL THE TOLL ROAD", "30 MINUTES TO DRIVE"
        if before in _LABEL_WORDS:
            return False  # "Council District 3 Pacific Ave corridor", "the 130 toll road"
        is_year = re.fullmatch(r"(?:19|20)[0-9]{2}", number) is not None
        return not (is_year and (before in _YEAR_WORDS or before == ""))

    def span(match: re.Match[str]) -> tuple[int, int]:
        end = match.end()
        if norm[end - 1] == ".":  # as often the sentence's full stop as "St.": leave it out
            end -= 1
        return match.start(), end

    for match in _ADDRESS.finditer(norm):
        if keep(match):
            yield *span(match), "street_address", "address-house-number"
    for cue in _ADDRESS_CUE.finditer(norm):
        after_cue = _ADDRESS_ANY_CASE.match(norm, cue.end())
        if after_cue is not None:
            yield *span(after_cue), "street_address", "address-after-cue"
    for match in _PO_BOX.finditer(norm):
        yield match.start(), match.end(), "street_address", "po-box"


def _find_names(norm: str) -> Iterator[_Candidate]:
    found: list[_Candidate] = []
    for pattern, rule in (
        (_TITLE_CUE, "title+name"),
        (_RELATIONSHIP_CUE, "relationship+name"),
        (_NAMED_CUE, "named+name"),
        (_SIGNOFF_CUE, "signoff+name"),
    ):
        # Search again from just after each cue's start, so a rejected cue ("A St my
        # neighbors") does not hide the one inside it ("my neighbors Tom").
        cue = pattern.search(norm)
        while cue is not None:
            if not (rule == "relationship+name" and _is_proper_noun_phrase(cue.group())):
                name = _name_after(norm, cue.end())
                if name is not None:
                    found.append((name[0], name[1], "person_name", rule))
            cue = pattern.search(norm, cue.start() + 1)
    yield from found
    # The same name elsewhere in the comment, except where it starts a sentence ("Will ...").
    words = {
        word
        for start, end, _, _ in found
        for word in re.findall(r"[^\W\d_][\w\u0300-\u036f'’\-]*", norm[start:end])
        if len(word) >= 3 and _is_name_word(word)
    }
    covered = sorted((start, end) for start, end, _, _ in found)
    for word in sorted(words):
        for match in re.finditer(r"(?<![\w\-])" + re.escape(word) + r"(?![\w\-])", norm):
            if match.start() == 0 or _SENTENCE_START.search(
                norm[max(0, match.start() - 4) : match.start()]
            ):
                continue
            index = bisect.bisect_right(covered, (match.start(), len(norm) + 1)) - 1
            if index < 0 or covered[index][1] <= match.start():  # not a name already found
                yield match.start(), match.end(), "person_name", "name-repeated"


def _resolve(candidates: Iterable[_Candidate]) -> list[_Candidate]:
    """Non-overlapping spans covering every candidate.

    Overlapping candidates become one span, their union, so that nothing any rule matched is
    left half-redacted (which would also make a second redaction find more). The span takes
    the kind of its most specific rule (then the longest); ``rule`` lists every rule merged.
    """

    def rank(rules: str) -> int:
        return min(_RULE_RANK[rule] for rule in rules.split(", "))

    ordered = sorted(set(candidates), key=lambda c: (rank(c[3]), -(c[1] - c[0]), c[0], c[2]))
    kept: list[_Candidate] = []  # sorted by start, never overlapping
    for start, end, kind, rule in ordered:
        first = bisect.bisect_left(kept, start, key=lambda kept_one: kept_one[0])
        if first > 0 and kept[first - 1][1] > start:
            first -= 1
        last = first
        while last < len(kept) and kept[last][0] < end:
            last += 1
        if first == last:
            kept.insert(first, (start, end, kind, rule))
            continue
        overlapping = kept[first:last]
        best = min(overlapping, key=lambda c: rank(c[3]))
        rules = sorted({part for c in overlapping for part in c[3].split(", ")} | {rule}, key=rank)
        merged_rule = ", ".join(rules)
        merged = (min(start, overlapping[0][0]), max(end, overlapping[-1][1]), best[2], merged_rule)
        kept[first:last] = [merged]
    return kept


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected the comment as str, got {type(text).__name__}")
    return text


def find_personal_data(text: str) -> tuple[Finding, ...]:
    """Spans of personal data in `text`, in order and not overlapping (see module docstring).

    >>> [(f.kind, f.text) for f in find_personal_data("mi vecino Juan Pérez, tel 0903 123 456")]
    [('person_name', 'Juan Pérez'), ('phone', '0903 123 456')]
    >>> find_personal_data("Call 911 or 311; 10-15 minutes; $1,500; ZIP 98405; I-5 at 5 pm")
    ()
    """
    # Placeholders from an earlier redaction are masked, so redacting twice changes nothing
    # more: "[plate removed] SR-509" is no plate cue, and the mask is a letter, so word
    # boundaries stay where the redacted digits or letters had them.
    norm = _PLACEHOLDER.sub(lambda m: _MASK * len(m.group()), _fold(_check_text(text)))
    candidates: list[_Candidate] = []
    for finder in (
        _find_emails_and_urls,
        _find_phones,
        _find_id_numbers,
        _find_plates,
        _find_addresses,
        _find_names,
    ):
        candidates.extend(finder(norm))
    return tuple(
        Finding(kind, start, end, text[start:end], rule)
        for start, end, kind, rule in _resolve(candidates)
    )


def redact(text: str, findings: Sequence[Finding] | None = None) -> Redaction:
    """Replace each personal-data span with its placeholder from ``PLACEHOLDERS``.

    `findings` default to ``find_personal_data(text)``; a moderator's own list may be given
    instead (each must point at its text; overlapping spans are merged, keeping the first
    span's kind).

    >>> redact("email me: ana@example.org").text
    'email me: [email removed]'
    >>> redact("See you at Wright Park").changed
    False
    """
    text = _check_text(text)
    if findings is None:
        findings = find_personal_data(text)
    for finding in findings:
        if finding.end > len(text) or text[finding.start : finding.end] != finding.text:
            raise ValueError(
                f"finding {finding.kind} at {finding.start}:{finding.end} expected "
                f"{finding.text!r} there but the text has "
                f"{text[finding.start : finding.end]!r}"
            )
    ordered = sorted(findings, key=lambda f: (f.start, -f.end))
    pieces: list[str] = []
    cursor = 0
    merged: list[Finding] = []
    for finding in ordered:
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            end = max(last.end, finding.end)
            merged[-1] = Finding(last.kind, last.start, end, text[last.start : end], last.rule)
        else:
            merged.append(finding)
    for finding in merged:
        pieces.append(text[cursor : finding.start])
        pieces.append(PLACEHOLDERS[finding.kind])
        cursor = finding.end
    pieces.append(text[cursor:])
    return Redaction("".join(pieces), tuple(merged), bool(merged))


# --- Abuse ---------------------------------------------------------------------------------

_VIOLENT_VERBS: Final = (
    r"(?:kill|shoot|stab|murder|hurt|strangle|choke|rape|lynch|bomb|gut|slit|smash"
    r"|beat[ \t]+(?:\w+[ \t]+)?up|beat[ \t]+the[ \t]+\w+[ \t]+out[ \t]+of|run[ \t]+\w+[ \t]+over"
    r"|blow[ \t]+up|burn[ \t]+(?:down[ \t]+)?(?:your|his|her|their)[ \t]+(?:house|car|place))"
)
# one optional word between the intent and the verb ("I will fucking kill"), but not a negation
_ADVERB: Final = r"(?:(?!(?:not|never|n['’]t)\b)\w+[ \t]+)?"
_THREATS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (rule, re.compile(pattern, re.IGNORECASE))
    for rule, pattern in (
        (
            "first-person intent",
            r"\b(?:i|we)(?:['’]ll|['’]m[ \t]+(?:going[ \t]+to|gonna|about[ \t]+to)"
            r"|['’]re[ \t]+(?:going[ \t]+to|gonna)|[ \t]+(?:will|shall|gonna|wanna|want[ \t]+to"
            r"|am[ \t]+(?:going[ \t]+to|gonna|about[ \t]+to)|are[ \t]+(?:going[ \t]+to|gonna)))"
            r"[ \t]+" + _ADVERB + _VIOLENT_VERBS + r"\b"
            r"|\bimma?[ \t]+" + _ADVERB + _VIOLENT_VERBS + r"\b",
        ),
        (
            "wish of death or violence",
            r"\b(?:should|ought[ \t]+to|needs?[ \t]+to|deserves?[ \t]+to|must)[ \t]+"
            r"(?:all[ \t]+)?(?:be[ \t]+(?:shot|killed|hanged|hung|lynched|executed|gassed"
            r"|beaten|burned|burnt|put[ \t]+down|exterminated)|die|get[ \t]+shot)\b"
            r"|\b(?:hope|wish)[ \t]+(?:you|he|she|they|u)[ \t]+(?:die|dies|get[ \t]+shot"
            r"|gets[ \t]+shot|get[ \t]+killed|gets[ \t]+killed)\b"
            r"|\bshoot[ \t]+(?:them|him|her|\w+)[ \t]+on[ \t]+sight\b|\bdeath[ \t]+to[ \t]+\w+",
        ),
        (
            "direct threat",
            r"\bkill[ \t]+(?:yo)?urself\b|\bkys\b|\bi[ \t]+know[ \t]+where[ \t]+you[ \t]+live\b"
            r"|\bwatch[ \t]+your[ \t]+back\b|\byou(?:['’]re|[ \t]+are)[ \t]+(?:dead|next)\b"
            r"|\byou(?:['’]ll|[ \t]+will)[ \t]+regret[ \t]+(?:it|this)\b",
        ),
        (
            "es: amenaza",
            r"\b(?:te|lo|la|los|las|les)[ \t]+(?:voy|vamos)[ \t]+a[ \t]+(?:matar|disparar|golpear"
            r"|quemar|partir|apuñalar|balacear)\b"
            r"|\b(?:voy|vamos)[ \t]+a[ \t]+(?:matar|disparar|balacear|apuñalar)(?:te|lo|la|los"
            r"|las)?\b|\b(?:deber[ií]an?|merecen?|hay[ \t]+que)[ \t]+(?:ser[ \t]+)?(?:matar"
            r"|morir|fusilar|ahorcar|balear|muertos|fusilados|ahorcados)(?:los|las|lo|la)?\b"
            r"|\bojal[aá][ \t]+(?:te|se|les|le)[ \t]+mueran?\b"
            r"|\bs[eé][ \t]+d[oó]nde[ \t]+vives\b|\bmuerte[ \t]+a[ \t]+\w+",
        ),
        ("ru/uk: угроза", r"(?<!\w)(?:убью|пристрелю|зарежу|вб['’]ю|уб['’]ю|заріжу)(?!\w)"),
    )
)
_NEGATION_BEFORE: Final = re.compile(
    r"\b(?:no|nobody|no[ \t\-]one|never|not|nadie|ningún|ninguna|ningun|nunca|ni)\b"
    r"(?:[ \t]+\S+){0,3}[ \t]*$",
    re.IGNORECASE,
)

_PROFANITY_WORDS: Final = _words(
    "shit shits shitty shithead shithole bullshit bitch bitches bitchy asshole assholes"
    " bastard bastards cunt cunts dickhead dickheads douchebag jackass motherfucker wtf stfu"
    " puta putas puto putos pendejo pendeja pendejos pendejas cabron cabrona cabrones"
    " mierda culero culera verga joder jodido jodida gilipollas chingada chingado chingar"
    " бля блять блядь сука суки хуй хуйня пизда пиздец ебать ебаный ёбаный мудак мудаки"
    " курва"
)
_PROFANITY_PREFIXES: Final = (
    "fuck", "shit", "bitch", "chinga", "pendej", "хуй", "хуе", "пизд", "ебан", "ёбан", "бляд",
)  # fmt: skip
_PROFANITY_EXCEPTIONS: Final = frozenset({"shitake", "shiitake"})
# Unambiguous slurs, ROT13-encoded so the source does not print them; decode with
# codecs.decode(word, "rot13") to review. Short on purpose: a moderator is the backstop.
_SLURS_ROT13: Final = (
    "avttre avttref avttn avttnf snttbg snttbgf ergneq ergneqf ergneqrq fcvp fcvpf jrgonpx"
    " jrgonpxf xvxr xvxrf genaal genaavrf tbbx tbbxf ornare ornaref znevpba znevpbarf"
)
_SLURS: Final = frozenset(codecs.decode(_SLURS_ROT13, "rot13").split())
_SLUR_PREFIXES: Final = (codecs.decode("avtt", "rot13"),)
_LEET: Final = str.maketrans("013457@$!", "oieastasi")
_WORD: Final = re.compile(r"(?<![\w*@$!])[\w*@$!'’]{1,40}")


def _collapse(word: str) -> str:
    """Letters repeated for emphasis count once: "fuuuck" -> "fuck", "asshole" -> "ashole"."""
    return re.sub(r"(.)\1+", r"\1", word)


def _squeeze(word: str) -> str:
    """Runs of three or more letters count as two: slurs are matched closely ("Niger" is not)."""
    return re.sub(r"(.)\1\1+", r"\1\1", word)


def _strip_accents(word: str) -> str:
    if all(ord(char) < 0x250 for char in word):  # Latin only: Cyrillic "й" must stay
        return "".join(
            char for char in unicodedata.normalize("NFKD", word) if not unicodedata.combining(char)
        )
    return word


_PROFANITY_COLLAPSED: Final = frozenset(_collapse(word) for word in _PROFANITY_WORDS)
_MASKABLE: Final = tuple(sorted(_PROFANITY_WORDS | {"fuck", "fucking", "fucker"}))


@functools.lru_cache(maxsize=8192)  # comments repeat words; the lists are fixed
def _word_kind(token: str) -> tuple[AbuseKind, str] | None:
    word = token.strip("!*'’").lower()
    if sum(char.isalpha() for char in word) < 2:
        return None
    if any(char.isalpha() for char in word):
        word = word.translate(_LEET)
    word = _strip_accents(word).replace("'", "").replace("’", "")
    if "*" in word:
        mask = "".join(
            f"[a-z]{{1,{len(piece) + 1}}}" if piece.startswith("*") else re.escape(piece)
            for piece in re.split(r"(\*+)", word)
        )
        if any(re.fullmatch(mask, candidate) for candidate in _MASKABLE):
            return "profanity", "masked profanity"
        return None
    squeezed = _squeeze(word)
    if squeezed in _SLURS or squeezed.startswith(_SLUR_PREFIXES):
        return "slur", "slur list"
    collapsed = _collapse(word)
    if collapsed in _PROFANITY_EXCEPTIONS:
        return None
    if (
        word in _PROFANITY_WORDS
        or collapsed in _PROFANITY_COLLAPSED
        or collapsed.startswith(_PROFANITY_PREFIXES)
        or "fuck" in collapsed
    ):
        return "profanity", "profanity list"
    return None


def find_abuse(text: str) -> tuple[AbuseFinding, ...]:
    """Threats, slurs and profanity in `text`, in order, for a moderator to judge.

    >>> for finding in find_abuse("I'm gonna kill him, f*cking city"):
    ...     print(finding.kind, repr(finding.text), finding.rule)
    threat "I'm gonna kill" first-person intent
    profanity 'f*cking' masked profanity
    >>> find_abuse("No child should be shot walking to school.")
    ()
    """
    norm = _fold(_check_text(text))
    found: list[AbuseFinding] = []
    for rule, pattern in _THREATS:
        for match in pattern.finditer(norm):
            negated = _NEGATION_BEFORE.search(norm[max(0, match.start() - 40) : match.start()])
            if rule.startswith(("wish", "es")) and negated:
                continue  # "no child should be shot", "nadie merece morir"
            found.append(
                AbuseFinding(
                    "threat", match.start(), match.end(), text[match.start() : match.end()], rule
                )
            )
    for match in _WORD.finditer(norm):
        kind = _word_kind(match.group())
        if kind is not None:
            found.append(
                AbuseFinding(
                    kind[0], match.start(), match.end(), text[match.start() : match.end()], kind[1]
                )
            )
    return tuple(sorted(found, key=lambda a: (a.start, a.end, a.kind)))


def moderation_check(text: str) -> ModerationResult:
    """Find personal data and abuse; redact the personal data; say whether to review.

    >>> clean = moderation_check("More lighting on Pacific Avenue near 72nd, please.")
    >>> clean.needs_review, clean.reasons, clean.text
    (False, (), 'More lighting on Pacific Avenue near 72nd, please.')
    """
    personal = find_personal_data(text)
    abuse = find_abuse(text)
    redaction = redact(text, personal)
    abuse_kinds = {finding.kind for finding in abuse}
    personal_kinds = {finding.kind for finding in personal}
    reasons = tuple(f"abuse:{kind}" for kind in ABUSE_KINDS if kind in abuse_kinds) + tuple(
        f"personal_data:{kind}" for kind in PERSONAL_DATA_KINDS if kind in personal_kinds
    )
    return ModerationResult(
        needs_review=bool(reasons),
        reasons=reasons,
        text=redaction.text,
        personal_data=personal,
        abuse=abuse,
    )
