"""Whether an index was built as today's settings would build it: its format, its settings
fingerprint and its encoder (name, kind and weights' sha256, in the manifest).

Vectors from two encoders do not mix: an index whose manifest names another model, kind or
file (a changed models/encoder, an fp32 or reference build) is stale, rebuilt instead of used,
and lends no vectors to the rebuild; so is one of another format or other settings. The one
test for all three: `incompatible`.
"""
from __future__ import annotations

from ..config import FORMAT_VERSION, Settings
from ..retrieval import encoder


def record(settings: Settings, dim: int) -> dict:
    """The manifest's "model" entry for an index built now with `settings`."""
    return {"name": settings.model_name, "dim": int(dim), "encoder": settings.encoder,
            "sha256": encoder.model_sha256(settings)}


def same(manifest: dict, settings: Settings) -> bool:
    """True when `manifest` was built by the encoder `settings` would use now."""
    m = manifest.get("model") or {}
    return (m.get("name"), m.get("encoder"), m.get("sha256")) == (
        settings.model_name, settings.encoder, encoder.model_sha256(settings))


def incompatible(manifest: dict, settings: Settings) -> str | None:
    """Why an index with this manifest cannot serve `settings` (nor lend them vectors), or None."""
    if manifest.get("format_version") != FORMAT_VERSION:
        return (f"index format {manifest.get('format_version')} is not this version's format {FORMAT_VERSION} "
                f"(format 3 stores int8 vectors and compact tables): it is rebuilt once")
    if manifest.get("settings") != settings.index_fingerprint():
        return "index settings differ from the current settings"
    if not same(manifest, settings):
        return "the index was built with another encoder model (models/encoder changed)"
    return None
