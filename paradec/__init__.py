"""paradec: the application layer (command-line interface) over theory, simulate, realmodel."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("paradec")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
