"""The garbage collector of a long-running server process (issue 16.2).

A web worker holds a few hundred thousand objects that live as long as it does: modules,
models, URL patterns, compiled statements. Python's collector walks all of them again at every
full collection — about 90 ms each, every few hundred ticket creations, 0.28 ms a creation on
average — and its young generation fills about every other request. `collector_settle`, called
once the application is loaded, frees the start-up garbage, moves what is left out of the
collector's reach (``gc.freeze``) and lets the young generation grow larger before it is
collected. Reference cycles made while serving are still collected.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # Python's default is 700 allocations


def collector_settle() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
