"""Ingest: a folder of files in, clean articles and their sentence windows out.

- `read.py`: which files are articles and how each is read (skipping bad files with a warning;
  an article past `max_article_chars` is indexed up to there, with a warning)
- `formats.py`, `html.py`, `dates.py`: one file in, its articles out (text, web pages, exports
  parsed strictly); publication dates
- `boilerplate.py`: the body of an article (site furniture out) and its title
- `duplicates.py`: scrapes of one story grouped (MinHash LSH, exact Jaccard)
- `align.py`: where a passage of one scrape stands in the others ("also in")
- `chunking.py`: sentences (pysbd, none longer than the encoder's window) and overlapping windows,
  with offsets into the file
- `uploads.py`: a file added through the chat, checked by its content and stored
"""
