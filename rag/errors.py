"""Errors a user can act on; the CLI and the web chat show their message as one line."""


class RagError(Exception):
    """Base of every error this package raises on purpose."""


class QuestionError(RagError, ValueError):
    """The question is empty or too long."""


class CorpusError(RagError):
    """The corpus folder is missing or holds no readable article."""


class StoreError(RagError):
    """The index on disk is missing, corrupt, or was built with other settings."""


class ModelError(RagError):
    """A model file is missing, corrupt, or its package is not installed."""
