"""One exception hierarchy for the application layer.

Each error also inherits the matching built-in, as gpiozero's ``exc.py`` does, so callers can
catch either. The command line turns any ``BackrepError`` into one line and exit status 2.
"""


class BackrepError(Exception):
    """Base of everything the app layer refuses on purpose."""


class UsageError(BackrepError, ValueError):
    """A bad argument or option value."""


class InputFileError(BackrepError, ValueError):
    """A file that cannot be used; the message names the file (and the line, where there is one)."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
