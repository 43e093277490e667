from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "supportdesk.tickets"
    label = "tickets"

    def ready(self) -> None:
        # Outgoing mail carries a reply's attachments; notifications never imports tickets.
        from supportdesk.notifications.channels import attachment_source_install
        from supportdesk.tickets.mail import attachments_for_mail

        attachment_source_install(attachments_for_mail)
