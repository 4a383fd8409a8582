"""The public surface: everything in `__all__` exists, and every public name is listed."""

import pkgutil

import sigsentry_pulumi


def test_all_lists_exactly_the_public_names() -> None:
    # dir(), not vars(): the package loads its names on first use (PEP 562 __getattr__). Only
    # identifiers: pytest rewrites the asserts of every module of a distribution that declares a
    # pytest plugin (ours: the emulator's), which adds `@py_builtins` and `@pytest_ar` to them.
    public = {
        name for name in dir(sigsentry_pulumi) if name.isidentifier() and not name.startswith("_")
    }
    # submodules, reachable as attributes once imported (mypy imports the plugin, not users)
    modules = {module.name for module in pkgutil.iter_modules(sigsentry_pulumi.__path__)}
    assert set(sigsentry_pulumi.__all__) - {"__version__"} == public - modules
    for name in sigsentry_pulumi.__all__:
        assert hasattr(sigsentry_pulumi, name)
