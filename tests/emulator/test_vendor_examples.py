"""The vendor's own pages, replayed: their curl commands as written (only host and key changed)
and their JSON examples. Copies of the pages live in `vendor_pages/`."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import httpx
import pytest

from raw_api import LOG_SOURCES
from sigsentry_emulator.testing import EmulatorProcess

PAGES = Path(__file__).parent / "vendor_pages"
VENDOR_HOST = "https://api.sigsentry.com"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def curl_command(text: str) -> list[str]:
    """The page's curl example as argv: from `curl` to the closing quote of its -d argument."""
    start = text.index("curl -X")
    data_start = text.index("-d '", start) + len("-d '")
    end = text.index("'", data_start) + 1
    return shlex.split(text[start:end].replace("\\\n", " "))


def as_request(argv: list[str], url: str, api_key: str) -> dict[str, Any]:
    """Interpret the curl flags the pages use (-X, -H, -d) with our host and key swapped in."""
    assert argv[0] == "curl"
    method, headers, data, target = "GET", {}, None, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip().replace("ss_secret_...", api_key)
        elif arg == "-d":
            data = next(args)
            method = method if method != "GET" else "POST"
        else:
            target = arg
    assert target is not None and target.startswith(VENDOR_HOST)
    return {
        "method": method,
        "url": url + target[len(VENDOR_HOST) :],
        "headers": headers,
        "content": None if data is None else data.encode(),
    }


def first_json_object(text: str, marker: str) -> dict[str, Any]:
    value, _ = json.JSONDecoder().raw_decode(text, text.index(marker))
    assert isinstance(value, dict)
    return value


def test_pages_replace_only_host_and_key(emulator: EmulatorProcess) -> None:
    for name in ("post-log-source.txt", "put-log-source.txt"):
        argv = curl_command(page(name))
        request = as_request(argv, emulator.url, emulator.api_key)
        assert request["headers"]["Authorization"] == f"Bearer {emulator.api_key}"
        assert request["headers"]["Content-Type"] == "application/json"


def test_post_page_curl_creates_a_datadog_source(emulator: EmulatorProcess) -> None:
    request = as_request(curl_command(page("post-log-source.txt")), emulator.url, emulator.api_key)

    response = httpx.request(**request)

    assert response.status_code == 201, response.text
    record = response.json()["data"]
    assert record["type"] == "datadog"
    assert record["name"] == "datadog-prod"
    assert record["sources"] == ["service:checkout-api", "service:billing-worker"]
    assert record["isActive"] is True


def test_put_page_curl_as_written_is_400_for_its_short_id(emulator: EmulatorProcess) -> None:
    argv = curl_command(page("put-log-source.txt"))
    assert any(arg.endswith("/v1/config/log-sources/ls_a1b2c3") for arg in argv)

    response = httpx.request(**as_request(argv, emulator.url, emulator.api_key))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [
        {"field": "id", "issue": "must be ls_ followed by a lowercase UUID"}
    ]


def test_put_page_curl_with_a_real_id_pauses_the_source(
    api: httpx.Client, emulator: EmulatorProcess
) -> None:
    source = page("post-log-source.txt")
    body = first_json_object(source, '{\n  "type": "cloudwatch"')
    created = api.post(LOG_SOURCES, json=body).json()["data"]
    request = as_request(curl_command(page("put-log-source.txt")), emulator.url, emulator.api_key)
    request["url"] = request["url"].replace("ls_a1b2c3", created["id"])

    response = httpx.request(**request)

    assert response.json() == {"success": True, "data": {"updated": True}}
    assert api.get(LOG_SOURCES).json()["data"][0]["isActive"] is False


def test_post_page_request_body_example_is_accepted(api: httpx.Client) -> None:
    body = first_json_object(page("post-log-source.txt"), '{\n  "type": "cloudwatch"')
    response = api.post(LOG_SOURCES, json=body)
    assert response.status_code == 201
    record = response.json()["data"]
    page_response = first_json_object(page("post-log-source.txt"), '{\n  "success": true')
    # the page's response example lists a subset of the record's fields, all present here
    assert set(page_response["data"]) <= set(record)
    assert record["sources"] == page_response["data"]["sources"]
    assert record["isActive"] is page_response["data"]["isActive"]


def test_put_page_request_body_example_updates(api: httpx.Client) -> None:
    created = api.post(
        LOG_SOURCES,
        json=first_json_object(page("post-log-source.txt"), '{\n  "type": "cloudwatch"'),
    ).json()["data"]
    update = first_json_object(page("put-log-source.txt"), '{\n"name": "prod-cloudwatch-renamed"')

    response = api.put(f"{LOG_SOURCES}/{created['id']}", json=update)

    assert response.json() == first_json_object(page("put-log-source.txt"), '{\n"success": true')
    [after] = api.get(LOG_SOURCES).json()["data"]
    assert (after["name"], after["sources"], after["isActive"]) == (
        update["name"],
        update["sources"],
        update["isActive"],
    )


@pytest.mark.parametrize(
    ("pattern", "body"),
    [
        ("Pause a source", {"isActive": False}),
        ("Resume a source", {"isActive": True}),
        ("Rotate credentials", {"credentials": {"accessKeyId": "AKIANEW", "secretAccessKey": "n"}}),
        ("Add a log group", {"sources": ["/aws/lambda/checkout-api", "/aws/lambda/new"]}),
    ],
)
def test_put_page_common_patterns(api: httpx.Client, pattern: str, body: dict[str, Any]) -> None:
    assert re.search(pattern, page("put-log-source.txt"))
    created = api.post(
        LOG_SOURCES,
        json=first_json_object(page("post-log-source.txt"), '{\n  "type": "cloudwatch"'),
    ).json()["data"]
    assert api.put(f"{LOG_SOURCES}/{created['id']}", json=body).status_code == 200
