"""The index store: build, persist, check and load the index of a folder of articles.

- `build.py`: `build` (read, chunk, tokenize, embed, persist) and `open_index` (load or build)
- `persist.py`: the on-disk layout (manifest, generations, atomic swap), `load`, `stale_reason`
"""
from .build import build, open_index
from .persist import load, source_hashes, stale_reason

__all__ = ["build", "open_index", "load", "source_hashes", "stale_reason"]
