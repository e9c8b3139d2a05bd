"""Which encoder an index was built with: its name, kind and weights' sha256, in the manifest.

Vectors from two encoders do not mix: an index whose manifest names another model, kind or
file (a changed models/encoder, an fp32 or reference build) is stale, rebuilt instead of used,
and lends no vectors to the rebuild.
"""
from __future__ import annotations

from ..config import Settings
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
