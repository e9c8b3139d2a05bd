"""Answering: from retrieved passages to a cited, extractive answer.

- `scoring.py`: candidate sentences (retrieved windows and their neighbours) and their scores
- `answer.py`: abstention, selection of the sentences that answer, `answer()`
- `facts.py`, `notes.py`: dates, amounts and names; notes where the sources differ
- `cite.py`: citations with offsets, the answer text, `verify`
- `followup.py`: follow-up questions rewritten against the conversation
- `render.py`: the answer as Markdown (the CLI and the chat's export), stories as text
- `stories.py`: `qa.stories`: every article about a query, grouped into dated stories, each cited
"""
