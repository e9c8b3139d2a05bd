"""qa: cited, extractive answers from a folder of news articles."""
from .errors import BackendError, BadFilterError, BadQuestionError, EmptyCorpusError, IndexCorruptError, QAError
from .answering.followup import resolve as resolve_followup
from .pipeline import Pipeline, ask, retrieve, stories, verify
from .types import Answer, Article, Chunk, Citation, DateScope, Hit, Location, Stories, Story, StoryArticle

__all__ = ["retrieve", "ask", "stories", "verify", "resolve_followup", "Pipeline", "Answer", "Article", "Chunk",
           "Citation", "DateScope", "Hit", "Location", "Stories", "Story", "StoryArticle", "QAError", "BadQuestionError", "BadFilterError", "EmptyCorpusError", "IndexCorruptError",
           "BackendError"]
