"""Errors that are part of the interface: one exception type per kind of user mistake.

Every error carries the file, the place in it and what is wrong, and prints as one line
``file: place: message``. The CLI turns them into exit code 2 without a traceback.
"""


#: exit code of each verdict; bad input (2) is a :class:`SymkktInputError`, before any result exists
VERDICT_EXIT = {"holds": 0, "refuted": 1, "inconclusive": 3}


class SymkktInputError(Exception):
    """A user input cannot be used.

    Parameters
    ----------
    message : str
        What is wrong.
    file : str, optional
        The file (or ``"<command line>"``, ``"<python>"``).
    place : str, optional
        Where in the file: a JSON path such as ``layers[1].dense.width`` or ``line 3``.

    Examples
    --------
    >>> str(SymkktInputError("width must be positive", "arch.yaml", "layers[0].dense.width"))
    'arch.yaml: layers[0].dense.width: width must be positive'
    """

    def __init__(self, message, file=None, place=None):
        self.message = message
        self.file = file
        self.place = place
        super().__init__(self.line())

    def line(self):
        """The one-line description ``file: place: message``."""
        parts = [p for p in (self.file, self.place) if p]
        return ": ".join(parts + [self.message])

    def located(self, file=None, place=None):
        """Return a copy with the file and/or a place prefix filled in."""
        new_place = self.place
        if place:
            new_place = f"{place}{'.' + self.place if self.place else ''}" if not (self.place or "").startswith("[") else f"{place}{self.place}"
        return type(self)(self.message, file or self.file, new_place)


class NumberSyntaxError(SymkktInputError):
    """A number string does not follow the exact-number grammar (or divides by zero)."""


class SchemaError(SymkktInputError):
    """A file does not have the required structure (unknown key, wrong type, missing field)."""


class ShapeError(SymkktInputError):
    """Parameters or data do not fit the architecture (wrong shapes, dimensions, labels)."""


class UsageError(SymkktInputError):
    """A command-line usage mistake (bad flag value, missing file, refused option)."""


class LimitError(SymkktInputError):
    """An input exceeds a resource limit of :mod:`symkkt.limits` (raise it with ``--limit NAME=N``)."""


class NotHomogeneousError(SymkktInputError):
    """The command needs a positively homogeneous network and this one is not."""
