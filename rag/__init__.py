"""rag: a private, local, bilingual (Arabic/English) question-answering assistant over news articles."""

from .config import Settings
from .errors import RagError

__all__ = ["RagError", "Settings"]
