"""Reading raw messages from `.eml` files, mbox files and Maildir folders (`supportdesk ingest`)."""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

Loader = Callable[[], bytes]


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def message_loaders(paths: list[str]) -> Iterator[tuple[str, Loader]]:
    """(label, loader) per message, in a stable order; loaders read lazily."""
    for name in paths:
        path = Path(name)
        if _is_maildir(path):
            box = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(box.keys()):
                yield f"{path}:{key}", partial(box.get_bytes, key)
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield from message_loaders([str(child)])
        elif path.is_file() and _is_mbox(path):
            mbox = mailbox.mbox(path, factory=None, create=False)
            for key in mbox.iterkeys():
                yield f"{path}:{key}", partial(mbox.get_bytes, key)
        elif path.is_file():
            yield str(path), path.read_bytes
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
