"""Rule 13: one recorder for the ticket audit log, kinds from one enum (issue 17.5)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import TicketEvent, TicketEventKind
from tests.factories import NOW, make_ticket

ROOT = Path(__file__).resolve().parents[3]
RECORDER = Path("supportdesk/tickets/events.py")
RECORDER_FUNCTIONS = {"ticket_event_record", "ticket_event_build"}
WRITES = {"create", "bulk_create", "get_or_create", "update_or_create", "update", "delete"}


def _kind_problems(node: ast.expr) -> list[str]:
    """A kind must be `TicketEventKind.<MEMBER>` (or a conditional choosing between them)."""
    if isinstance(node, ast.IfExp):
        return _kind_problems(node.body) + _kind_problems(node.orelse)
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "TicketEventKind"
    ):
        return [] if node.attr in TicketEventKind.__members__ else [f"unknown kind {node.attr}"]
    return [f"kind is not a TicketEventKind member: {ast.unparse(node)}"]


def problems_in(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        line = f"{where}:{node.lineno}"
        if func == "TicketEvent":
            found.append(f"{line}: TicketEvent(...) built outside the recorder")
        parts = func.split(".")
        if len(parts) >= 3 and parts[-3:-1] == ["TicketEvent", "objects"] and parts[-1] in WRITES:
            found.append(f"{line}: {func} outside the recorder")
        if parts[-1] in RECORDER_FUNCTIONS:
            kinds = [k.value for k in node.keywords if k.arg == "kind"]
            if not kinds:
                found.append(f"{line}: {func} without kind=")
            for kind in kinds:
                found += [f"{line}: {p}" for p in _kind_problems(kind)]
    return found


def _sources() -> list[Path]:
    files = [*(ROOT / "supportdesk").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    return [
        p
        for p in files
        if "tests" not in p.relative_to(ROOT).parts
        and "migrations" not in p.parts
        and p.relative_to(ROOT) != RECORDER
    ]


def test_every_ticket_event_goes_through_the_recorder_with_an_enum_kind_rule13():
    sources = _sources()
    assert len(sources) > 100  # the scan really walks the tree (bench/ and demo included)
    found = []
    for path in sources:
        found += problems_in(path.read_text(), str(path.relative_to(ROOT)))
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        'TicketEvent.objects.create(ticket=t, kind="created", at=now)',
        "TicketEvent.objects.bulk_create([])",
        'events.append(TicketEvent(ticket_id=1, kind="page_sent", at=now))',
        'ticket_event_record(ticket_id=1, kind="created", at=now)',
        "ticket_event_record(ticket_id=1, kind=TicketEventKind.NO_SUCH_KIND, at=now)",
        "ticket_event_build(ticket_id=1, kind=kind, at=now)",
    ],
)
def test_the_scan_catches_a_second_writer_or_a_free_text_kind(snippet):
    assert problems_in(snippet, "snippet") != []


def test_the_scan_accepts_the_recorder_with_members():
    ok = (
        "ticket_event_record(ticket_id=1, at=now,"
        " kind=TicketEventKind.CREATED if x else TicketEventKind.ESCALATED)"
    )
    assert problems_in(ok, "snippet") == []


@pytest.mark.django_db
def test_recorder_refuses_an_unknown_kind_and_stores_the_value(world):
    ticket = make_ticket(world)
    with pytest.raises(ValueError):
        ticket_event_record(ticket_id=ticket.pk, kind="made_up", at=NOW)  # type: ignore[arg-type]
    event = ticket_event_record(
        ticket_id=ticket.pk, kind=TicketEventKind.ESCALATED, at=NOW, data={"reason": "x"}
    )
    assert TicketEvent.objects.get(pk=event.pk).kind == "escalated"


def test_event_kind_field_lists_the_enum():
    assert TicketEvent._meta.get_field("kind").choices == TicketEventKind.choices
