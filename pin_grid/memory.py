"""What a worker keeps for its whole life, moved out of the cyclic garbage collector's way.

CPython's collector walks every object of its oldest generation at each full collection, and a
request that makes many objects (the comparison of 5,000 territories makes about 100,000) sets
off several of them. A worker keeping the scored cohorts of 5,000 territories (a few hundred
thousand small objects) walked them all again inside each such request: a third of the
comparison's time, and the reason it grew faster than the number of territories. Frozen
(`gc.freeze`), they are left out of those walks; an object frozen is still freed as soon as
nothing refers to it, unless it is part of a reference cycle (a scored cohort holds none)."""
from __future__ import annotations

import gc

from flask import current_app


def settle() -> None:
    """Collect the garbage there is now, then freeze every object still alive: called after a
    worker has filled a cache it keeps (rarely: a cohort is scored again only when one of its
    assessments changes)."""
    if not current_app.config["FREEZE_KEPT_OBJECTS"]:
        return
    gc.collect()
    gc.freeze()
