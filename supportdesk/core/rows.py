"""New rows built for `bulk_insert` without Django's model constructor (issue 16.2).

``Model(**values)`` walks every field of the model for each object: pops each keyword,
looks up each default, sets each value through ``setattr`` and sends the ``pre_init`` and
``post_init`` signals. A ticket creation builds some thirty rows that way, about a tenth of
its Python. `unsaved` makes the same object from a per-model plan worked out once: the
constant defaults copied in one step, callable defaults called, the given values stored
as they are, and a related object given by its name set through the relation's own
descriptor (its checks and caches, as Django does). A model with receivers of either signal
is built by its constructor, so nothing that listens misses an object.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, signals
from django.db.models.base import ModelState
from django.db.models.fields import NOT_PROVIDED

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Plan:
    constants: dict[str, Any]  # attname -> the default every new object shares (as Django)
    made: tuple[tuple[str, str, Callable[[], Any]], ...]  # (name, attname, default) called anew
    attnames: frozenset[str]  # the values stored as they are
    relations: frozenset[str]  # names set through their descriptors (a related object)


@functools.cache
def _plan(model: type[Model]) -> _Plan:
    constants: dict[str, Any] = {}
    made = []
    attnames = set()
    relations = set()
    for field in model._meta.concrete_fields:
        if field.generated:
            continue
        attnames.add(field.attname)
        if field.is_relation:
            relations.add(field.name)
        default = field.get_default  # what Django's constructor calls for a missing value
        if (field.has_default() and callable(field.default)) or (
            field.db_default is not NOT_PROVIDED and not field.has_default()
        ):
            made.append((field.name, field.attname, default))
        else:
            constants[field.attname] = default()
    return _Plan(constants, tuple(made), frozenset(attnames), frozenset(relations))


def unsaved(model: type[M], /, **values: Any) -> M:
    """``model(**values)``, for a row about to be inserted: `values` by attname (``ticket_id``)
    or, for a relation, by name with the related object (``ticket=ticket``)."""
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return model(**values)
    plan = _plan(model)
    obj = model.__new__(model)
    fields = obj.__dict__
    fields["_state"] = ModelState()
    fields.update(plan.constants)
    for name, attname, default in plan.made:
        if name not in values and attname not in values:
            fields[attname] = default()
    for key, value in values.items():
        if key in plan.relations:
            setattr(obj, key, value)
        elif key in plan.attnames:
            fields[key] = value
        else:
            raise TypeError(f"{model.__name__} has no field {key!r}")
    return obj
