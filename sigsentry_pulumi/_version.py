"""The installed package's version, sent in every request's User-Agent."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sigsentry-pulumi")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
