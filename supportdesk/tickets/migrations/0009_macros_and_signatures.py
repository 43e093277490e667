import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("tickets", "0008_merge_and_tags"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AgentProfile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("signature", models.TextField(blank=True, max_length=2000)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="agent_profile",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Macro",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=80)),
                (
                    "body",
                    models.TextField(
                        blank=True, help_text="Reply text; {{ requester.first_name }} etc."
                    ),
                ),
                (
                    "set_status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("new", "New"),
                            ("open", "Open"),
                            ("waiting_customer", "Waiting on customer"),
                            ("on_hold", "On hold"),
                            ("resolved", "Resolved"),
                            ("closed", "Closed"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "set_priority",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("P1", "P1 — system down, unable to continue"),
                            ("P2", "P2 — high"),
                            ("P3", "P3 — normal"),
                            ("P4", "P4 — low"),
                        ],
                        max_length=2,
                    ),
                ),
                ("assign_to_me", models.BooleanField(default=False)),
                (
                    "add_tags",
                    models.CharField(blank=True, help_text="Comma-separated.", max_length=200),
                ),
                ("created_at", models.DateTimeField()),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="macros",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "vendor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.vendor",
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
    ]
