"""Console part of the demo presets (T-12, issue 10.4): canned replies and agent signatures."""

from __future__ import annotations

from datetime import datetime

from supportdesk.accounts.models import User
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.tickets import services_console

MACROS = (
    {"name": "Ask for logs", "set_status": "waiting_customer",
     "body": "Hi {{ requester.first_name }},\n\nthank you for reporting #{{ ticket.ref }}. Could "
             "you send us the log files from the time it happened? Then we can look into it.\n\n"
             "{{ agent.name }}"},
    {"name": "Solved, please confirm", "set_status": "resolved",
     "body": "Hi {{ requester.first_name }},\n\nwe believe \u201c{{ ticket.subject }}\u201d is "
             "solved. Reply to this message if anything is still not working.\n\n"
             "{{ agent.name }}"},
    {"name": "Escalate to P1 and take it", "set_priority": "P1", "assign_to_me": True,
     "add_tags": "urgent", "body": ""},
)  # fmt: skip


def demo_extend(*, vendor: Vendor, now: datetime) -> None:
    staff = list(User.objects.filter(vendor=vendor, is_staff=True).order_by("pk"))
    if not staff:
        return
    sharer = next((u for u in staff if principal_for(u).has_role("admin", "lead")), None)
    # Shared by a vendor admin when there is one, else each agent gets its own copies.
    for owner in [sharer] if sharer else staff:
        for data in MACROS:
            services_console.macro_create(
                principal=principal_for(owner),
                data=dict(data),
                vendor_wide=sharer is not None,
                now=now,
            )
    for user in staff:
        services_console.signature_save(
            principal=principal_for(user), signature=f"{user.name}\n{vendor.name}"
        )
