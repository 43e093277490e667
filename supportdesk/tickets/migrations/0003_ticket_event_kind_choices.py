# Ticket event kinds of every app as choices (rule 13); one migration for the whole enum.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_ticket_org_status_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ticketevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("customer_replied", "Customer replied"),
                    ("agent_replied", "Agent replied"),
                    ("note_added", "Internal note added"),
                    ("status_changed", "Status changed"),
                    ("assigned", "Assigned"),
                    ("priority_changed", "Priority changed"),
                    ("queue_changed", "Queue changed"),
                    ("subject_changed", "Subject changed"),
                    ("escalated", "Escalated"),
                    ("closed_out_of_scope", "Closed out of scope"),
                    ("tag_added", "Tag added"),
                    ("merged_into", "Merged into another ticket"),
                    ("merged_from", "Another ticket merged into this one"),
                    ("closed_by_customer", "Closed by the customer"),
                    ("reopened_by_customer", "Reopened by the customer"),
                    ("cc_added", "Colleague added on CC"),
                    ("cc_removed", "Colleague removed from CC"),
                    ("rated", "Rated by the customer"),
                    ("entitlement_decided", "Entitlement decided"),
                    ("email_follow_up", "Mail followed up a closed ticket"),
                    ("email_delayed", "Outgoing mail delayed"),
                    ("email_bounced", "Outgoing mail bounced"),
                    ("email_linked", "Mail linked by staff"),
                    ("email_message_id_reused", "Message-ID reused by other content"),
                    ("sla_matched", "SLA matched"),
                    ("sla_rematched", "SLA matched again"),
                    ("sla_warning", "SLA warning"),
                    ("sla_breached", "SLA breached"),
                    ("oncall_started", "On-call paging started"),
                    ("oncall_not_configured", "On-call not configured"),
                    ("page_sent", "Page sent"),
                    ("page_skipped", "Page skipped"),
                    ("page_failed", "Page failed"),
                    ("page_acknowledged", "Page acknowledged"),
                    ("voicemail_received", "Voicemail received"),
                    ("voicemail_transcribed", "Voicemail transcribed"),
                    ("monitoring_alert", "Monitoring alert"),
                    ("monitoring_not_paged", "Outage not paged"),
                ],
                max_length=40,
            ),
        ),
    ]
