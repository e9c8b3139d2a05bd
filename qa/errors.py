"""Domain exceptions. The library raises them; only the CLI and the UI turn them
into messages and exit codes."""


class QAError(Exception):
    """Base class for every error qa raises on purpose."""


class EmptyCorpusError(QAError, ValueError):
    """The seeds folder has no readable article."""


class IndexCorruptError(QAError):
    """A persisted index is unreadable, truncated or does not match its manifest."""


class IndexWriteError(QAError):
    """The index folder cannot be written (read-only, full, no permission); nothing was changed."""


class BadQuestionError(QAError, ValueError):
    """The question is empty, too long or not text, or a search parameter (k, mode) is not one qa takes."""


class BadFilterError(QAError, ValueError):
    """A date or outlet filter that cannot be used (not a date, since after until, not names)."""


class BackendError(QAError):
    """The configured retrieval backend cannot be used (not installed, unreachable, misconfigured)."""
