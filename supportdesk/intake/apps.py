from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "supportdesk.intake"
    label = "intake"
    verbose_name = "Email intake"

    def ready(self) -> None:
        # Ticket mail threads through intake's registry; tickets never imports intake.
        from supportdesk.intake.selectors import thread_headers_for
        from supportdesk.intake.services import email_links_move, email_links_outgoing
        from supportdesk.intake.services_trust import staff_mail_headers
        from supportdesk.tickets.mail import MailThreading, mail_threading_install

        mail_threading_install(
            MailThreading(
                headers_for=thread_headers_for,
                links_outgoing=email_links_outgoing,
                staff_headers_for=staff_mail_headers,
                links_move=email_links_move,
            )
        )
