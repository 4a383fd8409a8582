"""A server that echoes the request into its error leaks nothing: the API key and a credential
are scrubbed from every form the echo may take (plain, both JSON forms, base64 at any byte
alignment, URL encoding), in the message, the details and the `[request id ...]` header value
(httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
import re
import traceback
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import httpx
import pytest

from client.fakes import API_KEY, BASE_URL, ScriptedAPI, error, make_client
from sigsentry_pulumi import BadRequestError
from sigsentry_pulumi._client import redact

# non-ASCII, a quote and a backslash: the JSON httpx sends differs from json.dumps' default
CREDENTIAL = 'pässwörd-"quoted"-back\\slash-€uro'
SECRETS = [API_KEY, CREDENTIAL]
SOURCE_ID = "ls_00000000-0000-4000-8000-000000000000"


def sent_body() -> str:
    """The body of the update below, exactly as httpx encodes `json=`."""
    request = httpx.Request("PUT", BASE_URL, json={"credentials": {"password": CREDENTIAL}})
    return request.content.decode("utf-8")


def echoed_request() -> str:
    return f"Authorization: Bearer {API_KEY}\nbody: {sent_body()}"


def b64(alphabet: Callable[[bytes], bytes], lead: int) -> Callable[[str], str]:
    """Base64 of the text after `lead` bytes, so the values start at every byte alignment."""
    return lambda text: alphabet(b"x" * lead + text.encode("utf-8")).decode("ascii")


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda text: text,
    "json, ASCII": lambda text: json.dumps(text, ensure_ascii=True),
    "json, as httpx sends": lambda text: json.dumps(text, ensure_ascii=False),
    **{f"base64, {lead} byte(s) before": b64(base64.b64encode, lead) for lead in range(3)},
    **{f"urlsafe base64, {lead} before": b64(base64.urlsafe_b64encode, lead) for lead in range(3)},
    "quote": lambda text: quote(text, safe=""),
    "quote, / kept": quote,
    "quote_plus": quote_plus,
}


def text_forms(value: str) -> list[str]:
    """The value, and its JSON forms once and twice escaped (an echo of a JSON body in JSON)."""
    forms = [value]
    for _ in range(2):
        forms += [json.dumps(f, ensure_ascii=a)[1:-1] for f in forms for a in (True, False)]
    return forms


def leaks(text: str) -> list[str]:
    """What of a secret `text` shows, in any form; each found form is named, not shown."""
    found = []
    for number, secret in enumerate(SECRETS):
        words = [w for w in re.split(r"[^\w€]+", secret) if len(w) >= 5]
        for word in words:  # a piece of the value between escapes
            if word in text or quote(word) in text:
                found.append(f"secret #{number}, a word of it")
        for form_number, form in enumerate(text_forms(secret)):
            encoded = {form, quote(form, safe=""), quote(form), quote_plus(form)}
            for lead in range(3):
                for alphabet in (base64.b64encode, base64.urlsafe_b64encode):
                    whole = alphabet(bytes(lead) + form.encode("utf-8")).decode("ascii")
                    encoded.add(whole[4:-4])  # inside the groups the value shares with its text
            if any(piece in text for piece in encoded):
                found.append(f"secret #{number}, form #{form_number}")
    return found


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_an_echoed_request_in_the_message_and_details_shows_no_secret(encoding: str) -> None:
    echo = ENCODINGS[encoding](echoed_request())
    assert leaks(echo), "the test's echo must hold the secrets"
    api = ScriptedAPI(
        error(400, "VALIDATION_ERROR", f"bad request: {echo}", [{"field": echo, "issue": echo}])
    )
    with pytest.raises(BadRequestError) as caught:
        make_client(api).update_log_source(SOURCE_ID, credentials={"password": CREDENTIAL})
    assert api.requests[0].content.decode() == sent_body()  # the echo is of what was sent
    shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert leaks(shown) == []
    assert "[redacted]" in str(caught.value)


HEADER_SAFE = [name for name in ENCODINGS if name not in ("plain", "json, as httpx sends")]


@pytest.mark.parametrize("encoding", ["bearer", *HEADER_SAFE])
def test_a_request_id_echoing_the_request_is_scrubbed(encoding: str) -> None:
    # an HTTP header carries only ASCII: the plain and httpx JSON forms cannot stand in one
    value = f"Bearer {API_KEY}" if encoding == "bearer" else ENCODINGS[encoding](echoed_request())
    api = ScriptedAPI(error(400, "VALIDATION_ERROR", "bad request", **{"X-Request-Id": value}))
    with pytest.raises(BadRequestError) as caught:
        make_client(api).update_log_source(SOURCE_ID, credentials={"password": CREDENTIAL})
    assert leaks(str(caught.value) + repr(caught.value)) == []
    assert caught.value.request_id is not None and "[redacted]" in caught.value.request_id
    if encoding == "bearer":
        assert str(caught.value).endswith("[request id Bearer [redacted]]")


def test_a_failed_tests_reason_echoing_the_key_is_scrubbed() -> None:
    api = ScriptedAPI(
        httpx.Response(
            200,
            json={"success": True, "data": {"ok": False, "message": f"denied for {API_KEY}"}},
        )
    )
    result = make_client(api).test_log_source(SOURCE_ID)
    assert result.message == "denied for [redacted]"


@pytest.mark.parametrize("lead", range(3))
def test_base64_of_a_value_at_each_alignment_is_replaced_by_its_stable_middle(lead: int) -> None:
    secret = "ss_secret_0123456789abcdef"
    text = base64.b64encode(b"Z" * lead + f"key={secret};".encode()).decode()
    redacted = redact(text, [secret])
    assert "[redacted]" in redacted
    head, tail = redacted.split("[redacted]")
    # left: the characters that hold bits of the bytes around the value (a character holds 6
    # bits: the head is the characters that hold any of the lead and "key=")
    assert head == text[: len(head)] and len(head) == -(-8 * (lead + 4) // 6)
    assert text.endswith(tail) and len(tail) <= 6


def test_short_values_keep_the_whole_word_rule_in_every_form() -> None:
    assert redact("Illegal header", ["a", "e"]) == "Illegal header"
    assert redact("dGVzdCBxIHRleHQ=", ["q"]) == "dGVzdCBxIHRleHQ="  # base64 text is left whole
    assert redact('value "q" rejected', ["q"]) == 'value "[redacted]" rejected'
    assert redact("token=%C3%A9t%C3%A9 refused", ["été"]) == "token=[redacted] refused"


def test_a_value_with_a_lone_surrogate_does_not_break_redaction() -> None:
    assert redact("nothing to hide", ["\ud800-surrogate-value"]) == "nothing to hide"
