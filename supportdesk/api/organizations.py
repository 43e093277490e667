from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import (
    ContactIn,
    ContactOut,
    InvitationOut,
    OrganizationIn,
    OrganizationOut,
)
from supportdesk.api.serializers import contact_out
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.models import Vendor
from supportdesk.customers import selectors, services

router = Router(tags=["organizations"])


def _org_out(org: Any) -> dict[str, Any]:
    return {"id": org.pk, "name": org.name, "created_at": org.created_at}


@router.get("/organizations", response={200: list[OrganizationOut], **ERRORS})
def list_organizations(request: HttpRequest) -> Any:
    return [_org_out(o) for o in selectors.organization_list(principal=principal_of(request))]


@router.post("/organizations", response={201: OrganizationOut, **ERRORS})
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Any:
    principal = principal_of(request)
    if not principal.is_staff:
        raise Forbidden("only staff may create organisations")
    if principal.vendor_id is None:
        raise InvalidInput("this user belongs to no vendor; create organisations as vendor staff")
    vendor = Vendor.objects.get(pk=principal.vendor_id)
    org = services.organization_create(
        vendor=vendor, name=payload.name, email_domains="\n".join(payload.email_domains)
    )
    return Status(201, _org_out(org))


@router.get("/organizations/{int:org_id}", response={200: OrganizationOut, **ERRORS})
def get_organization(request: HttpRequest, org_id: int) -> Any:
    return _org_out(
        selectors.organization_get(principal=principal_of(request), organization_id=org_id)
    )


@router.get("/organizations/{int:org_id}/contacts", response={200: list[ContactOut], **ERRORS})
def list_contacts(request: HttpRequest, org_id: int) -> Any:
    contacts = selectors.contact_list(principal=principal_of(request), organization_id=org_id)
    return [contact_out(c) for c in contacts]


@router.post("/organizations/{int:org_id}/contacts", response={201: ContactOut, **ERRORS})
def create_contact(request: HttpRequest, org_id: int, payload: ContactIn) -> Any:
    principal = principal_of(request)
    org = selectors.organization_get(principal=principal, organization_id=org_id)
    if not principal.is_staff:
        raise Forbidden("only staff may add contacts")
    contact = services.contact_create(
        organization=org,
        name=payload.name,
        emails=[payload.email, *payload.emails],
        phones=payload.phones,
        faxes=payload.faxes,
        role=payload.role,
    )
    return Status(201, contact_out(contact))


@router.post(
    "/organizations/{int:org_id}/contacts/{int:contact_id}/invite",
    response={202: InvitationOut, **ERRORS},
)
def invite_contact(request: HttpRequest, org_id: int, contact_id: int) -> Any:
    """Mail the contact a single-use link to choose a portal password (A-2)."""
    principal = principal_of(request)
    contact = selectors.contact_get(principal=principal, contact_id=contact_id)
    if contact.organization_id != org_id:
        raise NotFound(f"contact {contact_id} not found")
    user = services.contact_invite(contact=contact, principal=principal, now=clock.now())
    return Status(202, {"contact": contact.pk, "email": user.email, "status": "invited"})
