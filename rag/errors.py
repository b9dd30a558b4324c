"""The project's exceptions. Every message says what went wrong and what to do about it."""


class RagError(Exception):
    """Base class: the CLI and the app show `str(error)` to the user, never a traceback."""


class ConfigError(RagError):
    """A setting is invalid (bad TOML, unknown model name, wrong type)."""


class ModelError(RagError):
    """A model is missing, corrupt, or failed to load."""


class FetchError(ModelError):
    """Downloading or assembling a model from the package registry failed."""


class IndexStoreError(RagError):
    """The index is missing, corrupt, or was built with other settings."""


# What an IndexStoreError about a damaged or mismatched index tells the user to do.
REBUILD_HINT = "Rebuild it with: rag ingest --rebuild seeds/ (or your article folder)"


class IngestError(RagError):
    """A whole ingestion run failed (per-file problems go into the report instead)."""


class QueryError(RagError):
    """A question or search query cannot be processed as given (empty, too long)."""
