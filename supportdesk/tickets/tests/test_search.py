"""Ticket search (T-12, issue 10.1): what it finds, for whom, in which order, and the snippet.

Runs on SQLite (FTS5) and, with DATABASE_URL pointing at PostgreSQL, on tsvector + GIN.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from supportdesk.core.search import query_terms, snippet
from supportdesk.tickets import services
from supportdesk.tickets.models import TicketSearchDocument
from supportdesk.tickets.search import INDEX, ticket_search
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def refs(world, who, text, **kw):
    hits, _ = ticket_search(principal=world.principal(who), text=text, **kw)
    return [h.ticket.ref for h in hits]


def reply(world, ticket, body, *, who=None, kind="public", minutes=1, **kw):
    return services.message_add(
        ticket=ticket,
        principal=world.principal(who or world.agent),
        body=body,
        kind=kind,
        now=NOW + timedelta(minutes=minutes),
        **kw,
    )


def test_finds_by_a_word_of_the_third_message_T12(world):
    ticket = make_ticket(world, subject="Printer offline", body="It says offline.")
    reply(world, ticket, "Have you tried turning it off and on?", minutes=1)
    reply(world, ticket, "The spooler shows a flamingo error code.", who=world.alice, minutes=2)
    make_ticket(world, subject="Other", body="nothing here")
    assert refs(world, world.agent, "flamingo") == [ticket.ref]
    assert refs(world, world.alice, "flamingo") == [ticket.ref]
    assert refs(world, world.agent, "flamin") == [ticket.ref]  # words match as prefixes


def test_finds_by_number_subject_requester_address_organisation_and_attachment_T12(world):
    from supportdesk.tickets.services import AttachmentInput

    ticket = make_ticket(world, subject="Scanner jams on duplex", body="see log")
    other = make_ticket(world, world.gina, subject="Unrelated", body="nothing")
    reply(world, ticket, "log attached", attachments=[AttachmentInput("spool-dump.txt", b"x")])
    assert refs(world, world.agent, f"#{ticket.ref}")[0] == ticket.ref
    assert refs(world, world.agent, str(other.ref))[0] == other.ref
    assert refs(world, world.agent, "duplex scanner") == [ticket.ref]
    assert refs(world, world.agent, "alice@acme.example") == [ticket.ref]
    assert refs(world, world.agent, "Alice") == [ticket.ref]
    assert refs(world, world.agent, "globex") == [other.ref]
    assert refs(world, world.agent, "spool-dump.txt") == [ticket.ref]


def test_internal_notes_are_found_by_staff_only_T12(world):
    ticket = make_ticket(world, subject="VPN drops", body="every hour")
    reply(world, ticket, "customer firewall is a Zyxel", kind="internal")
    assert refs(world, world.agent, "zyxel") == [ticket.ref]
    assert refs(world, world.alice, "zyxel") == []
    hits, _ = ticket_search(principal=world.principal(world.alice), text="vpn")
    assert "Zyxel" not in hits[0].snippet


def test_a_contact_never_finds_another_organisations_ticket_T12(world):
    acme = make_ticket(world, world.alice, subject="Octarine license expired", body="help")
    globex = make_ticket(world, world.gina, subject="Octarine dashboard slow", body="help")
    assert refs(world, world.alice, "octarine") == [acme.ref]
    assert refs(world, world.bob, "octarine") == [acme.ref]
    assert refs(world, world.gina, "octarine") == [globex.ref]
    assert refs(world, world.gina, f"#{acme.ref}") == []  # not even by number
    assert refs(world, world.rex, "octarine") == []
    assert refs(world, world.rival_agent, "octarine") == []  # staff of another vendor
    assert sorted(refs(world, world.agent, "octarine")) == sorted([acme.ref, globex.ref])


def test_subject_match_ranks_above_a_body_match_T12(world):
    body_hit = make_ticket(world, subject="Login page", body="the kerberos ticket expired")
    subject_hit = make_ticket(world, subject="Kerberos realm misconfigured", body="see title")
    assert refs(world, world.agent, "kerberos") == [subject_hit.ref, body_hit.ref]


def test_index_follows_subject_changes_T12(world):
    ticket = make_ticket(world, subject="Old words here", body="x")
    services.ticket_subject_change(
        ticket=ticket, principal=world.principal(world.agent), subject="Brand new", now=NOW
    )
    assert refs(world, world.agent, "old words") == []
    assert refs(world, world.agent, "brand") == [ticket.ref]


def test_snippet_is_escaped_and_marks_the_match_T12(world):
    make_ticket(world, subject="Weird", body='The page shows <script>alert("owl")</script> twice')
    [hit], _ = ticket_search(principal=world.principal(world.agent), text="owl")
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;alert(&quot;<mark>owl</mark>&quot;)" in hit.snippet


def test_snippet_helper_picks_the_best_text_and_cuts_a_window():
    long = "lorem " * 100 + "the quokka jumped " + "ipsum " * 100
    html = snippet(["nothing", long], query_terms("quokka"), width=60)
    assert "<mark>quokka</mark>" in html and html.startswith("… ") and html.endswith(" …")
    assert len(html) < 120


def test_pages_are_ranked_and_continue_T12(world):
    tickets = [make_ticket(world, subject=f"Badger {i}", body="badger") for i in range(5)]
    first, more = ticket_search(principal=world.principal(world.agent), text="badger", limit=3)
    second, done = ticket_search(
        principal=world.principal(world.agent), text="badger", limit=3, offset=3
    )
    assert more and not done
    assert sorted(h.ticket.ref for h in first + second) == sorted(t.ref for t in tickets)


def test_reindex_command_rebuilds_documents_and_index_T12(world):
    ticket = make_ticket(world, subject="Heron migration", body="x")
    INDEX.write([], keys=[ticket.pk])
    assert refs(world, world.agent, "heron") == []
    call_command("search_reindex", verbosity=0)
    assert refs(world, world.agent, "heron") == [ticket.ref]
    assert TicketSearchDocument.objects.count() == 1


def test_index_is_the_databases_own_full_text_index_T12(world):
    make_ticket(world, subject="Pelican", body="x")
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT count(*) FROM tickets_ticketsearchdocument_fts "
                "WHERE tickets_ticketsearchdocument_fts MATCH 'pelican'"
            )
            assert cur.fetchone() == (1,)
            return
        cur.execute(
            "SELECT count(*) FROM tickets_ticketsearchdocument "
            "WHERE search_vector @@ to_tsquery('simple', 'pelican')"
        )
        assert cur.fetchone() == (1,)
        cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [f"{INDEX.table}_search_gin"]
        )
        assert "gin (search_vector)" in cur.fetchone()[0]
