"""The public surface: everything in `__all__` exists, and every public name is listed."""

import sigsentry_pulumi


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(sigsentry_pulumi) if not name.startswith("_")}
    # submodules, reachable as attributes once imported (mypy imports the plugin, not users)
    modules = {"provider", "resource", "testing", "mypy_plugin", "policies"}
    assert set(sigsentry_pulumi.__all__) - {"__version__"} == public - modules
    for name in sigsentry_pulumi.__all__:
        assert hasattr(sigsentry_pulumi, name)
