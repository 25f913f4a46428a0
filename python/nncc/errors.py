"""nncc's errors as Python exceptions, with the messages the CLI prints."""


class Error(Exception):
    """Anything nncc refuses; `message` is the runtime's or compiler's text."""

    @property
    def message(self):
        return str(self)


class InvalidArgument(Error, ValueError):
    """A wrong feed (dtype, rank, size), an unknown name, a bad model or argument."""


class CompileError(InvalidArgument):
    """The compiler refused the graph: its diagnostics, naming the node."""


class NotFound(Error, LookupError):
    """A file (executable, checkpoint, dataset) that is not there."""


class DataLoss(Error):
    """A file that is truncated, corrupted or of another kind or version."""


class Unavailable(Error):
    """A device that is not there (cuda without a driver or a GPU)."""
