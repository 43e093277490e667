import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
application = get_wsgi_application()

# Any WSGI server loading this module refuses to serve with the public demo key or without
# PUBLIC_BASE_URL (outside `supportdesk demo`): supportdesk/core/startup.py.
from supportdesk.core.startup import require_servable_configuration  # noqa: E402

require_servable_configuration()
