"""The detectors shared by the safety evaluator and ``llmwatch.redact.pii``: PII, secrets, injection, toxicity.

Each PII detector is a regular expression plus, where the format has one, a checksum (Luhn for cards, mod 97 for
IBANs), so order numbers and look-alike codes are not flagged. The toxicity list is our own, kept short and
precise on purpose (profanity, threats, sexual content), matched on whole words after undoing common leetspeak.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![\w-])")
PHONE = re.compile(
    r"(?<![\w+])(?<!\d[ -])"
    r"(?:\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]\d{2,4}){1,4}"  # international: +44 20 7946 0958
    r"|\(\d{3}\)[\s.-]?\d{3}[\s.-]\d{4}"  # (415) 555-2671
    r"|\d{3}[.-]\d{3}[.-]\d{4})"  # 415-555-2671
    r"(?![\w-])(?! \d)"
)
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
SECRET = re.compile(
    r"(?:\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-)?[A-Za-z0-9_-]{20,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{22,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
    r"|\bAIza[0-9A-Za-z_-]{35}\b"
    r"|-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----)"
)
INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+)*"
    r"(?:previous|prior|above|earlier|preceding|original|system)\s+(?:instructions?|prompts?|rules|directions|guidelines)"
    r"|\b(?:reveal|show|print|repeat|output|display|leak|tell me)\s+(?:me\s+)?(?:your|the)\s+"
    r"(?:system\s+prompt|initial\s+(?:prompt|instructions)|hidden\s+(?:prompt|instructions)|instructions\s+above)"
    r"|\byou\s+are\s+now\s+(?:dan|in\s+developer\s+mode|an?\s+unrestricted|jailbroken)"
    r"|\b(?:pretend|act)\s+(?:that\s+)?(?:you\s+)?(?:are|as)\s+(?:an?\s+)?(?:ai\s+)?(?:with(?:out)?\s+(?:no\s+)?"
    r"(?:restrictions|filters|rules))",
    re.IGNORECASE,
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_TOXIC_WORDS = re.compile(
    r"\b(?:fuck(?:ing|er|ed)?|motherfucker|shit(?:ty)?|bullshit|bitch(?:es)?|bastard|asshole|cunt|dickhead"
    r"|whore|slut|retard(?:ed)?|faggot|nigger|kike|spic|chink|tranny|porn(?:o|ographic)?|blowjob|cumshot|dildo)\b",
    re.IGNORECASE,
)
_THREAT = re.compile(
    r"\b(?:i(?:'ll| will| am going to|'m going to| gonna)|we(?:'ll| will| are going to))\s+"
    r"(?:kill|murder|hurt|shoot|stab|beat up|destroy)\s+(?:you|him|her|them|your\s+\w+)\b"
    r"|\byou(?:'re| are)\s+(?:going\s+to\s+)?(?:die|dead)\b",
    re.IGNORECASE,
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return 15 <= len(compact) <= 34 and int(number) % 97 == 1


# Cheap prefilters (C-speed scans) so the full patterns only run on texts that could match.
_FOUR_DIGITS = re.compile(r"\d{4}")
_THREE_DIGITS = re.compile(r"\d{3}")
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}")
_SECRET_MARKERS = ("sk-", "AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AIza", "PRIVATE KEY")
_INJECTION_MARKERS = ("instruction", "prompt", "rule", "guideline", "direction", "developer mode", "dan",
                      "unrestricted", "jailbr", "restriction", "filter")  # fmt: skip
_THREAT_MARKERS = ("kill", "murder", "hurt", "shoot", "stab", "beat up", "destroy", "die", "dead")
_TOXIC_SET = frozenset(
    [
        "fuck",
        "fucking",
        "fucker",
        "fucked",
        "motherfucker",
        "shit",
        "shitty",
        "bullshit",
        "bitch",
        "bitches",
        "bastard",
        "asshole",
        "cunt",
        "dickhead",
        "whore",
        "slut",
        "retard",
        "retarded",
        "faggot",
        "nigger",
        "kike",
        "spic",
        "chink",
        "tranny",
        "porn",
        "porno",
        "pornographic",
        "blowjob",
        "cumshot",
        "dildo",
    ]
)
_WORDS = re.compile(r"[a-z]+")


def _secrets(text: str) -> Iterator[re.Match[str]]:
    if any(marker in text for marker in _SECRET_MARKERS):
        yield from SECRET.finditer(text)


def _emails(text: str) -> Iterator[re.Match[str]]:
    if "@" in text:
        yield from EMAIL.finditer(text)


def cards(text: str) -> Iterator[re.Match[str]]:
    if not _FOUR_DIGITS.search(text):
        return
    for match in CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and digits[0] in "3456" and luhn_ok(digits):
            yield match


def ibans(text: str) -> Iterator[re.Match[str]]:
    if _IBAN_SHAPE.search(text):
        yield from (m for m in IBAN.finditer(text) if iban_ok(m.group()))


def _ssns(text: str) -> Iterator[re.Match[str]]:
    if _SSN_SHAPE.search(text):
        yield from SSN.finditer(text)


def _phones(text: str) -> Iterator[re.Match[str]]:
    if _THREE_DIGITS.search(text):
        yield from PHONE.finditer(text)


def injection(text: str) -> bool:
    lowered = text.lower()
    return any(m in lowered for m in _INJECTION_MARKERS) and INJECTION.search(text) is not None


def toxic(text: str) -> bool:
    lowered = text.lower()
    if not _TOXIC_SET.isdisjoint(_WORDS.findall(lowered.translate(_LEET))):
        return True
    if "*" in text and _TOXIC_WORDS.search(lowered.translate(_LEET)):  # masked spellings such as f*cking
        return True
    return any(m in lowered for m in _THREAT_MARKERS) and _THREAT.search(text) is not None


#: flag -> (mask, finder of its matches in a text), for flags and for redaction
FINDERS: dict[str, tuple[str, Callable[[str], Iterator[re.Match[str]]]]] = {
    "secret.api_key": ("[secret]", _secrets),
    "pii.email": ("[email]", _emails),
    "pii.credit_card": ("[credit_card]", cards),
    "pii.iban": ("[iban]", ibans),
    "pii.us_ssn": ("[ssn]", _ssns),
    "pii.phone": ("[phone]", _phones),
}
