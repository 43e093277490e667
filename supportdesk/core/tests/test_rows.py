"""`unsaved` builds the object Django's constructor builds (issue 16.2)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.apps import apps
from django.db.models import NOT_PROVIDED, Model, signals
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.core.rows import unsaved
from supportdesk.tickets.models import Ticket, TicketEvent

MODELS = sorted(
    (m for m in apps.get_models() if not m._meta.proxy and not m._meta.abstract),
    key=lambda m: m._meta.label,
)


def _state(obj: Model) -> tuple[Any, ...]:
    cache = obj._state.fields_cache
    return (obj._state.adding, obj._state.db, {k: id(v) for k, v in cache.items()})


def _comparable(obj: Model, model: type[Model]) -> dict[str, Any]:
    """Every stored value; one a callable default made is compared by its type (a clock, a
    new UUID differ between two objects, whoever builds them)."""
    made = {
        f.attname
        for f in model._meta.concrete_fields
        if (f.has_default() and callable(f.default))
        or (f.db_default is not NOT_PROVIDED and not f.has_default())
    }
    return {
        k: (type(v) if k in made and not isinstance(v, dict | list) else v)
        for k, v in vars(obj).items()
        if k != "_state"
    }


@st.composite
def _values(draw: st.DrawFn, model: type[Model]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.generated or not draw(st.booleans()):
            continue
        if field.is_relation:
            how = draw(st.sampled_from(["key", "none", "object"]))
            if how == "key":
                values[field.attname] = draw(st.integers(min_value=1, max_value=10**6))
            elif how == "none":
                values[field.name] = None
            else:
                related = cast(type[Model], field.related_model)
                values[field.name] = related(pk=draw(st.integers(min_value=1, max_value=10**6)))
        else:
            values[field.attname] = draw(st.sampled_from([object(), "", "text", 7, None]))
    return values


@given(data=st.data())
def test_an_unsaved_row_is_what_the_model_constructor_makes_for_every_model_N2(data: Any):
    model = data.draw(st.sampled_from(MODELS))
    values = data.draw(_values(model))
    fast, slow = unsaved(model, **values), model(**values)
    assert type(fast) is model
    assert _comparable(fast, model) == _comparable(slow, model), model
    assert _state(fast)[:2] == _state(slow)[:2] and set(_state(fast)[2]) == set(_state(slow)[2])
    for name, value in values.items():
        if isinstance(value, Model):
            assert fast._state.fields_cache[name] is value


def test_an_unsaved_row_is_built_by_the_constructor_when_a_signal_listens_N2():
    heard = []

    def listener(sender: type[Model], instance: Model, **kwargs: Any) -> None:
        heard.append(instance)

    signals.post_init.connect(listener, sender=TicketEvent)
    try:
        event = unsaved(TicketEvent, ticket_id=1, kind="created")
    finally:
        signals.post_init.disconnect(listener, sender=TicketEvent)
    assert heard == [event]


def test_an_unknown_field_is_refused_as_the_constructor_refuses_it_N2():
    with pytest.raises(TypeError):
        Ticket(no_such_field=1)
    with pytest.raises(TypeError, match="no_such_field"):
        unsaved(Ticket, no_such_field=1)
