"""Retrieval: from a question to the passages that best match it.

- `encoder.py`: the MiniLM sentence encoder on onnxruntime (question, chunk and sentence vectors)
- `runtime.py`: onnxruntime sessions and the model cache; `export.py`: the one-time ONNX export
  and the sentence-transformers reference (the only place torch is imported)
- `lexical.py`: a sparse BM25 index; `dense.py`: a faiss index over the vectors
- `fusion.py`: reciprocal rank fusion, a pure function
- `index.py`: the in-memory index a search runs over
- `search.py`: `search` (BM25, dense or hybrid) and the checks on a question, k and mode
"""
