"""Field types shared by several payloads, so each rule is written once."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

# A zero-width joiner is a format character, but it is how emoji such as a family are spelled: allowed between two.
_ZERO_WIDTH_JOINER = "\u200d"
# Scripts with letters that look like Latin ones: a word mixing them is how a "Paypal" with a Cyrillic "a" deceives.
_LOOK_ALIKE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})


def _no_controls(value: str) -> str:
    """No control characters (tabs and line breaks included) and no lone surrogates, which no database stores."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Sk")


def _joins_emoji(value: str, at: int) -> bool:
    """A zero-width joiner between two emoji (a variation selector or skin tone may sit before it)."""
    before = value[:at].rstrip("\ufe0e\ufe0f")
    return bool(before) and _is_emoji(before[-1]) and at + 1 < len(value) and _is_emoji(value[at + 1])


def _single_line(value: str) -> str:
    """One line of plain visible text, as names and titles travel into mail subjects and other people's screens.

    Refused: control characters and line or paragraph separators (U+2028/9 break mail headers), and format
    characters (category Cf: bidi overrides and isolates, zero-width spaces), which hide or reorder what is shown.
    """
    _no_controls(value)
    for at, ch in enumerate(value):
        category = unicodedata.category(ch)
        if category in ("Zl", "Zp"):
            raise ValueError("must be a single line: no line or paragraph separators")
        if category == "Cf" and not (ch == _ZERO_WIDTH_JOINER and _joins_emoji(value, at)):
            raise ValueError(
                f"must not contain invisible formatting characters (U+{ord(ch):04X}: bidi controls, zero-width)"
            )
    return value


def _script(ch: str) -> str | None:
    script = unicodedata.name(ch, "").partition(" ")[0]
    return script if script in _LOOK_ALIKE_SCRIPTS else None


def _one_script_per_word(value: str) -> str:
    """No word mixing look-alike scripts (after NFKC, so fullwidth and mathematical letters count as Latin)."""
    for word in re.findall(r"[^\W\d_]+", unicodedata.normalize("NFKC", value)):
        scripts = {script for ch in word if (script := _script(ch)) is not None}
        if len(scripts) > 1:
            raise ValueError(f"must not mix {' and '.join(sorted(s.title() for s in scripts))} letters in one word")
    return value


def _text(value: str) -> str:
    """What a person types into a message: like a single line, but line breaks and tabs are welcome."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\r\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _lowercase(value: str) -> str:
    return value.lower()


Email = Annotated[EmailStr, Field(max_length=254, examples=["ada@example.com"]), AfterValidator(_lowercase)]
PASSWORD_MIN_LENGTH = 12  # OWASP ASVS 2.1.1


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list (leaked password dumps), lower-cased, loaded once."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(password.lower() for password in FREQUENCY_LISTS["passwords"])


def _not_common(value: str) -> str:
    """A password from a list of common ones is guessed first, whatever its length (ASVS 2.1.7)."""
    folded = value.lower()
    if folded in _common_passwords() or folded.replace(" ", "") in _common_passwords():
        raise ValueError("is one of the most common passwords; choose another")
    return value


NewPassword = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=128,
        description=f"At least {PASSWORD_MIN_LENGTH} characters, and not one of the most common passwords.",
        examples=["correct horse battery staple"],
    ),
    AfterValidator(_text),
    AfterValidator(_not_common),
]
# Any length up to the cap: a password checked against a stored hash needs no policy, only a bound.
Password = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_text)]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(_single_line),
    AfterValidator(_one_script_per_word),
    Field(examples=["Ada Lovelace"]),
]
Bio = Annotated[str, StringConstraints(max_length=500), AfterValidator(_text), Field(examples=["Analyst of engines."])]
SearchText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_single_line)
]
LoginName = Annotated[str, Field(min_length=1, max_length=254), AfterValidator(_no_controls)]
OpaqueToken = Annotated[str, Field(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_single_line),
    Field(examples=["Friday lunch"]),
]
MessageBody = Annotated[
    str,
    Field(min_length=1, max_length=10_000, examples=["See you at noon."]),
    AfterValidator(_text),
    AfterValidator(_not_blank),
]
