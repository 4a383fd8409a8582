"""README.md stays an entry page: what the package is, install, quick start, one example, then
links; the rest lives in docs/ (and is reached from it)."""

from __future__ import annotations

from documentation.markdown import ROOT, links

README = (ROOT / "README.md").read_text()
MAX_LINES = 120


def test_the_readme_is_short() -> None:
    assert len(README.splitlines()) <= MAX_LINES


def test_the_readme_says_it_serves_python_programs_only_and_why() -> None:
    assert "For Python Pulumi programs only" in README
    assert "dynamic provider" in README and "pulumi.dynamic" in README


def test_the_readme_links_every_page_of_the_docs() -> None:
    linked = {target.partition("#")[0] for target in links(README)}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages <= linked, sorted(pages - linked)


def test_the_readme_gives_the_two_commands_and_ci_runs_its_test_command() -> None:
    # On a fresh machine `make demo` and `make test` do everything; CI runs exactly that test
    # command first (then what the supported-versions matrix adds).
    assert "make demo" in README and "make test" in README
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    assert ci == ["make test", "make test-compat"]
