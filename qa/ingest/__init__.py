"""Ingest: a folder of files in, clean articles and their sentence windows out.

- `read.py`: which files are articles and how each is read (skipping bad files with a warning)
- `boilerplate.py`: the body of an article (site furniture out) and its title
- `duplicates.py`: scrapes of one story grouped (MinHash LSH, exact Jaccard)
- `align.py`: where a passage of one scrape stands in the others ("also in")
- `chunking.py`: sentences (pysbd) and overlapping windows, with offsets into the file
"""
