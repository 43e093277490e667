import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_macros_and_signatures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="agentprofile",
            name="emailed",
            field=models.JSONField(
                default=list,
                help_text="Notification kinds also sent by email (through the outbox).",
            ),
        ),
        migrations.AddField(
            model_name="agentprofile",
            name="muted",
            field=models.JSONField(
                default=list, help_text="Notification kinds not shown in the console."
            ),
        ),
        migrations.CreateModel(
            name="AgentNotification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("new_ticket", "New ticket in my queue"),
                            ("assigned", "Assigned to me"),
                            ("customer_reply", "Customer reply on my ticket"),
                            ("mention", "Mention in an internal note"),
                        ],
                        max_length=20,
                    ),
                ),
                ("text", models.CharField(max_length=300)),
                ("created_at", models.DateTimeField()),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.ticket",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="console_notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["user", "read_at"], name="agent_note_user_unread")
                ],
            },
        ),
    ]
