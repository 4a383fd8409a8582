"""docs/api-contract.md is the emulator's OpenAPI document, rendered: regenerated here and compared,
so a route, parameter, status or schema the emulator changes fails until the contract says so."""

from __future__ import annotations

from tools.api_contract import CONTRACT, openapi, render


def test_the_contract_is_the_rendered_openapi_document() -> None:
    assert CONTRACT.read_text() == render(), "run `python -m tools.api_contract`"


def test_the_contract_names_every_route_and_schema() -> None:
    document = openapi()
    text = CONTRACT.read_text()
    for path, operations in document["paths"].items():
        for method in operations:
            assert f"### `{method.upper()} {path}`" in text
    for schema in document["components"]["schemas"]:
        assert f"### {schema}\n" in text
