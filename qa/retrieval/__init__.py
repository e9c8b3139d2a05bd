"""Retrieval: from a question to the passages that best match it.

- `encoder.py`: the MiniLM sentence encoder on onnxruntime (question, chunk and sentence vectors)
- `shipped.py`: the int8 encoder shipped in models/encoder, its card and its sha256 check
- `runtime.py`: onnxruntime sessions and the model cache of the fp32 reference
- `export.py`, `ship.py`: the ONNX export, the sentence-transformers reference and
  `qa export-encoder` (the train extra; the only places torch is imported)
- `lexical.py`: a sparse BM25 index; `dense.py`: a faiss index over the vectors
- `fusion.py`: reciprocal rank fusion, a pure function
- `index.py`: the in-memory index a search runs over
- `search.py`: `search` (BM25, dense or hybrid) and the checks on a question, k and mode
- `filters.py`: the date and outlet filter as a mask over the chunks; `when.py`: the date
  phrase of a question ("in October 2012", "last week") read as a range
- `exhaustive.py`: every article's term coverage and best-sentence cosine for a query (`qa.stories`)
"""
