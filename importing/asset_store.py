"""Store a post's checked asset files (importing.assets) through Django's default storage.

Called by the load stage, in a real run only, inside the batch's transaction
before it commits: an article row that links to `/media/hexo-assets/…` is never
committed without its file having been stored (a failed store is a warning, and
its reference is reported as missing on the next look). A file the batch stores
before the batch is rolled back stays, unreferenced: its name is its content's
hash, so a later import reuses it rather than storing it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage

from importing.assets import AssetFile


@dataclass
class AssetStore:
    """Stores files under their content-addressed names, each at most once."""

    storage: Storage = field(default_factory=lambda: default_storage)
    # Storage names known to exist: stored by this store, or found there.
    present: set[str] = field(default_factory=set)
    stored: int = 0

    def store(self, files: Iterable[AssetFile], *, post: str) -> list[str]:
        """Store each of `files` whose name the storage does not hold yet; warnings (naming `post`) for failures."""
        problems = []
        for asset in files:
            try:
                self._store_one(asset)
            except Exception as exc:  # noqa: BLE001 — any storage backend's failure is one file's warning
                problems.append(f"{post}: asset {asset.name}: not stored ({type(exc).__name__}: {exc})")
        return problems

    def _store_one(self, asset: AssetFile) -> None:
        name = asset.storage_name
        if name in self.present:
            return
        if self.storage.exists(name):
            self.present.add(name)
            return
        with open(asset.source, "rb") as stream:
            data = stream.read()
        # The name is the hash the worker checked: a file changed since is not stored under it.
        if hashlib.sha256(data).hexdigest() != PurePosixPath(name).stem:
            raise ValueError("the file changed after it was checked")
        saved = self.storage.save(name, ContentFile(data))
        if saved != name:
            # Another import stored the same content meanwhile: keep theirs, drop our copy.
            self.storage.delete(saved)
        self.present.add(name)
        self.stored += 1


def store_assets(files: Iterable[AssetFile], *, post: str = "") -> list[str]:
    """Store `files` in the default storage (skipping those already there); the warnings."""
    return AssetStore().store(files, post=post)
