"""Calendars, policies and the per-ticket clocks of response targets (S-1..S-5).

`TicketSla` is the match of one ticket against its policy, with a snapshot of the matched rule,
the calendars it names and the pause statuses (house rule 9): editing the policy later never
moves a running clock. `SlaTarget` is one clock (first response, one next-response cycle,
resolution) with its events and the indexed deadlines the sweep reads.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from supportdesk.sla.domain.calendar import BusinessCalendar, CalendarSpecError
from supportdesk.sla.domain.policy import Policy, PolicySpecError


class Calendar(models.Model):
    """A named business calendar of a vendor (S-1); `spec` is BusinessCalendar JSON."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    spec = models.JSONField(help_text='{"timezone": ..., "weekly": {...}, "holidays": [...]}')
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="uniq_sla_calendar_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.from_spec(self.spec)

    def clean(self) -> None:
        try:
            self.calendar()
        except (CalendarSpecError, ValueError) as exc:
            raise ValidationError({"spec": str(exc)}) from None


class SlaPolicy(models.Model):
    """Response-target rules of a vendor (S-2, S-3); `spec` is Policy JSON.

    A request is matched against, in this order: the policy assigned to its organisation
    (`OrganizationSlaPolicy`), the policy of the plan of the contract that covers it
    (`PlanSlaPolicy`, from the entitlement decision at intake), the vendor's default.
    """

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    spec = models.JSONField(help_text='{"name": ..., "pause_statuses": [...], "rules": [...]}')
    is_default = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="uniq_sla_policy_name"),
            models.UniqueConstraint(
                fields=["vendor"],
                condition=models.Q(is_default=True),
                name="uniq_sla_default_policy",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def policy(self) -> Policy:
        return Policy.from_spec(self.spec)

    def clean(self) -> None:
        try:
            policy = self.policy()
        except (PolicySpecError, ValueError) as exc:
            raise ValidationError({"spec": str(exc)}) from None
        if self.vendor_id is None:
            return
        names = set(
            Calendar.objects.filter(vendor_id=self.vendor_id).values_list("name", flat=True)
        )
        missing = sorted(policy.calendar_names() - names)
        if missing:
            raise ValidationError(
                {"spec": f"refers to calendar {missing[0]!r}, which this vendor does not have"}
            )


def _require_same_vendor(owner: Any, policy: Any) -> None:
    """Admin-form check: a policy is assigned only within its own vendor (unset sides pass)."""
    if owner is not None and policy is not None and owner.vendor_id != policy.vendor_id:
        raise ValidationError("the policy belongs to another vendor")


class OrganizationSlaPolicy(models.Model):
    """Overrides the vendor's default policy for one customer organisation."""

    organization = models.OneToOneField(
        "customers.Organization", on_delete=models.CASCADE, related_name="sla_assignment"
    )
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="assignments")

    class Meta:
        verbose_name = "organisation SLA policy"

    def clean(self) -> None:
        _require_same_vendor(getattr(self, "organization", None), getattr(self, "policy", None))


class PlanSlaPolicy(models.Model):
    """The response targets that come with a support plan (S-2: "a rule list per plan")."""

    plan = models.OneToOneField(
        "contracts.Plan", on_delete=models.CASCADE, related_name="sla_assignment"
    )
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="plans")

    class Meta:
        verbose_name = "plan SLA policy"

    def clean(self) -> None:
        _require_same_vendor(getattr(self, "plan", None), getattr(self, "policy", None))


class TicketSla(models.Model):
    """How a ticket matched its policy, frozen when its clocks started."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    policy_name = models.CharField(max_length=100)
    plan_name = models.CharField(
        max_length=200, blank=True, help_text="Plan of the contract covering the request."
    )
    rule_name = models.CharField(max_length=100, blank=True, help_text="Empty: no rule matched.")
    rule = models.JSONField(default=dict, help_text="Snapshot of the matched rule's spec.")
    calendars = models.JSONField(default=dict, help_text="Snapshot: calendar name -> spec.")
    pause_statuses = models.JSONField(default=list)
    explanation = models.TextField()
    matched_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.rule_name or 'no rule'}"


class TargetKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class TargetState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATES = (TargetState.RUNNING, TargetState.PAUSED)


class SlaTarget(models.Model):
    """One clock. `events` is the SlaClock event list as [[kind, iso instant], ...].

    `due_at`/`warn_at` are the projected instants while running (null while paused);
    `next_deadline` is the earliest of them still to fire: the sweep claims
    `next_deadline <= now`. A breach stays recorded after the target is met late
    (`state` stays breached, `met_at` is set).
    """

    # `ticket` and `vendor` lead the composite indexes (Meta): no index of their own to write
    # with every clock (issue 16.2).
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sla = models.ForeignKey(TicketSla, on_delete=models.CASCADE, related_name="targets")
    # Denormalised grouping keys of the compliance report (S-5).
    vendor = models.ForeignKey(
        "core.Vendor", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="+"
    )
    priority = models.CharField(max_length=2)
    plan = models.CharField(max_length=200, blank=True, help_text="Empty: no covering contract.")
    kind = models.CharField(max_length=20, choices=TargetKind.choices)
    cycle = models.PositiveIntegerField(default=0, help_text="Next-response cycle, from 1.")
    duration_seconds = models.PositiveIntegerField()
    calendar_name = models.CharField(max_length=100, blank=True, help_text="Empty: 24x7.")
    warn_percent = models.PositiveSmallIntegerField(default=80)
    state = models.CharField(max_length=10, choices=TargetState.choices)
    events = models.JSONField(default=list)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    next_deadline = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True, help_text="The due instant.")
    met_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "cycle"], name="uniq_sla_target"),
        ]
        indexes = [
            models.Index(
                fields=["next_deadline"],
                name="sla_target_next_deadline",
                condition=models.Q(next_deadline__isnull=False),
            ),
            models.Index(fields=["vendor", "started_at"], name="sla_target_vendor_started"),
            models.Index(fields=["ticket", "state"], name="sla_target_ticket_state"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.kind} {self.state}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "cycle": self.cycle,
            "state": self.state,
            "started_at": self.started_at,
            "due_at": self.due_at,
            "breached_at": self.breached_at,
            "met_at": self.met_at,
        }
