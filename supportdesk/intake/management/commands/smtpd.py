"""`supportdesk smtpd [--host H] [--port N]`: receive mail over SMTP into intake."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from supportdesk.core import clock
from supportdesk.intake.batch import email_process_pending_many
from supportdesk.intake.smtp import make_controller


class Command(BaseCommand):
    help = "Receive mail over SMTP; 250 only after the message is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args: Any, **options: Any) -> None:
        email_process_pending_many(now=clock.now())
        controller = make_controller(host=options["host"], port=options["port"])
        controller.start()
        self.stdout.write(f"smtpd listening on {options['host']}:{options['port']} (Ctrl+C stops)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
