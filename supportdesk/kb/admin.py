from supportdesk.kb import downloads_admin  # noqa: F401  (registers the downloads models)
