from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, Field

from supportdesk.core.limits import INT64_MAX, check_day, check_moment
from supportdesk.tickets.domain.content import HTML_MAX_CHARS

# Every whole number, date and time the API accepts is one of these (issue 17.3), so a value
# the databases cannot store or the date arithmetic cannot handle is a 422 with a message.
# supportdesk/api/tests/test_input_limits.py fails for an integer input declared without bounds.
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
Day = Annotated[date, AfterValidator(check_day)]
Moment = Annotated[datetime, AfterValidator(check_moment)]
# Amounts fit the money columns (12 integer digits for prices, 13 for billing amounts, 3 for
# percentages; no NaN or infinity). Decimal places and signs are the services' rules, with their
# messages. Counts stored in 32-bit columns are bounded in magnitude the same way.
Price = Annotated[Decimal, Field(gt=-(10**12), lt=10**12)]
Amount = Annotated[Decimal, Field(gt=-(10**13), lt=10**13)]
Percent = Annotated[Decimal, Field(gt=-1000, lt=1000)]
Count = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]


class Error(Schema):
    detail: str
    code: str


class OrganizationRef(Schema):
    id: int
    name: str


class ContactRef(Schema):
    id: int
    name: str
    email: str


class UserRef(Schema):
    id: int
    name: str
    email: str


class AttachmentIn(Schema):
    filename: str = Field(max_length=255)
    content_base64: str


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class TicketIn(Schema):
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1)
    priority: str = "P3"
    channel: str = "api"
    organization: Id | None = None
    requester: Id | str | None = None
    product: Id | None = None
    version: str = ""
    caller_number: str = ""
    attachments: list[AttachmentIn] = []


class TicketPatch(Schema):
    subject: str | None = None
    priority: str | None = None
    status: str | None = None
    queue: Id | None = None
    assignee: Id | str | None = Field(
        default=None, description='A staff user id, or "auto" to pick a present queue member.'
    )


class TicketOut(Schema):
    ref: int
    subject: str
    status: str
    priority: str
    channel: str
    organization: OrganizationRef
    requester: ContactRef | None
    queue: str
    assignee: UserRef | None
    product: str | None
    version: str
    caller_number: str
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    escalation_reason: str
    out_of_scope: str
    entitlement: dict[str, Any] | None = None  # contracts.selectors.ticket_entitlement_out


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class MessageIn(Schema):
    body: str = Field(min_length=1)
    kind: str = "public"
    body_html: str = Field(
        default="",
        max_length=HTML_MAX_CHARS,
        description="Sanitised like mail: no scripts, styles or remote images.",
    )
    attachments: list[AttachmentIn] = []


class MessageOut(Schema):
    id: int
    kind: str
    channel: str
    author: str
    from_customer: bool
    unverified: bool = Field(
        description="Mail that claims a contact's address without proving it (T-11)."
    )
    body: str
    body_html: str
    created_at: datetime
    attachments: list[AttachmentOut]


class EscalateIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class OrganizationIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    email_domains: list[str] = []


class OrganizationOut(Schema):
    id: int
    name: str
    created_at: datetime


class ContactIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    emails: list[str] = []
    phones: list[str] = []
    faxes: list[str] = Field(default=[], max_length=20, description="Fax numbers (E.164)")
    role: str = "contact"


class ContactOut(Schema):
    id: int
    name: str
    email: str
    emails: list[str]
    phones: list[str]
    faxes: list[str]
    role: str
    organization: int


class InvitationOut(Schema):
    contact: int
    email: str
    status: str


class Health(Schema):
    status: str
    database: str
    version: str
