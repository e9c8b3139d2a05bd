"""The index store: build, persist, check and load the index of a folder of articles.

- `build.py`: `build` (read, chunk, tokenize, embed, persist) and `open_index` (load or build)
- `persist.py`: the on-disk layout (manifest, generations, atomic swap), `stale_reason`
- `loading.py`: `load` (every file checked, the large arrays memory-mapped)
- `files.py`: each file written all or nothing, read back checked; one writer per index folder
"""
from .build import build, open_index, rebuild
from .loading import load
from .persist import folder_signature, source_changes, source_hashes, stale_reason, sweep, up_to_date

__all__ = ["build", "open_index", "rebuild", "load", "folder_signature", "source_changes", "source_hashes",
           "stale_reason", "sweep", "up_to_date"]
