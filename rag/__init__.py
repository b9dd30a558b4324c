"""rag: a private, local, bilingual (Arabic/English) question-answering assistant over news articles.

    from rag import Assistant
    answer = Assistant.from_settings().ask("من هو جون كيربي؟")
"""

from .assistant import Assistant
from .config import Settings
from .errors import ConfigError, IndexStoreError, IngestError, ModelError, QueryError, RagError
from .types import Answer, Citation, IngestReport, Passage

__all__ = [
    "Answer", "Assistant", "Citation", "ConfigError", "IndexStoreError", "IngestError",
    "IngestReport", "ModelError", "Passage", "QueryError", "RagError", "Settings",
]
