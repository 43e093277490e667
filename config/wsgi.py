import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
application = get_wsgi_application()

# Any WSGI server loading this module refuses to serve with the public demo key or without
# PUBLIC_BASE_URL (outside `supportdesk demo`): supportdesk/core/startup.py.
from supportdesk.core.startup import require_servable_configuration  # noqa: E402

require_servable_configuration()

# Every view loaded now rather than on the first request, then kept out of the collector's
# walks (supportdesk/core/collector.py).
from django.urls import get_resolver  # noqa: E402

from supportdesk.core.collector import collector_settle  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - loads the URLconf and every view it names
collector_settle()
