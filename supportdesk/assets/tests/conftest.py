from supportdesk.portal.tests.test_browser import browser_page  # noqa: F401  (shared fixture)
