"""The error's own words: every message and code an exchange put in its answer, wherever it put
them, normalised so one pattern reads them all.

Exchanges put the words in many shapes (`msg`, `message`, `err-msg`, `error.message`, an `error`
list, `errors.{field}: [..]`, nested `data[].sMsg`); which keys hold them is data (`_words.yaml`).
Codes are words too when they are names (`IP_FORBIDDEN`, `api-signature-not-valid`,
`InvalidApiKey`); numeric codes carry none and are left to the exchange's knowledge file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

MAX_PLAIN = 500  # of a body that is not JSON (an HTML page, "Too many API requests.")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_APOSTROPHE = re.compile("['\u2019`]")  # apostrophes, typographic ones included
_PUNCTUATION = re.compile(r"[^\w\s]|_")
# Latin next to CJK or Hangul ("key错误", "IP地址") would be one word without a space between.
_SCRIPT_CHANGE = re.compile(
    r"(?<=[a-z0-9])(?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])"
    r"|(?<=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])(?=[a-z0-9])"
)
# Spelled-out letters ("no_authorization_i_p") are one word.
_SPELLED = re.compile(r"\b([a-z]) (?=[a-z]\b)")
_TAGS = re.compile(r"<[^>]+>")
# ccxt puts the signed request URL into some errors ("...?timestamp=...&recvWindow=..."): its
# parameter names are no words about the error.
_URL = re.compile(r"\bhttps?://\S+")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def normalize(text: str) -> str:
    """'Signature not valid: Incorrect IP address [IP地址错误]' -> 'signature not valid incorrect ip
    address ip 地址错误'; 'APIKEY_EXPIRED' -> 'apikey expired'; "doesn't" -> 'doesnt'."""
    text = _URL.sub(" ", text)
    text = _CAMEL.sub(" ", text).lower()
    text = _APOSTROPHE.sub("", text)
    text = _PUNCTUATION.sub(" ", text)
    text = _SCRIPT_CHANGE.sub(" ", text)
    text = " ".join(text.split())
    return _SPELLED.sub(r"\1", text)


def error_words(
    document: Any, body: str | None, keys: frozenset[str], extra: Iterable[str] = ()
) -> list[str]:
    """The normalised texts of an answer: its message and code fields (JSON), or its plain text."""
    texts = field_values(document, keys) if isinstance(document, (dict, list)) else _plain(body)
    found: list[str] = []
    for text in (*texts, *extra):
        words = normalize(text)
        if _HAS_LETTER.search(words) and words not in found:
            found.append(words)
    return found


def field_values(document: Any, keys: frozenset[str]) -> list[str]:
    """Every scalar under a message or code key, however nested, as text; a top-level array
    counts as one (Bitfinex's ["error", 10100, "apikey: invalid"])."""
    return list(_values_under(document, keys, inside=isinstance(document, list)))


def embedded_document(message: str) -> Any:
    """The JSON body inside a ccxt exception's text ('mexc {"code":700006,...}'), for failures
    recorded without the response body."""
    start = message.find("{")
    if start < 0:
        return None
    try:
        return json.loads(message[start:])
    except ValueError:
        return None


def _values_under(node: Any, keys: frozenset[str], inside: bool) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _values_under(value, keys, inside or str(key).lower() in keys)
    elif isinstance(node, list):
        for item in node:
            yield from _values_under(item, keys, inside)
    elif inside and isinstance(node, (str, int, float)) and not isinstance(node, bool):
        yield str(node)


def _plain(body: str | None) -> list[str]:
    text = (body or "").strip()
    if text[:1] in ("{", "["):
        return []  # JSON cut short: data, whose field names are no words about an error
    text = _TAGS.sub(" ", text).strip()
    return [text[:MAX_PLAIN]] if text else []
