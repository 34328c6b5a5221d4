"""The people's pages: server-rendered templates, message catalogs and shipped assets.

Every app (resident ``/``, volunteer ``/volunteer/``, call center ``/call-center/``, console
``/console/``) renders through ``render.Pages`` on ``templates/base.html``, takes its strings
from ``locale/<lang>/LC_MESSAGES/messages.po`` and talks to the JSON API from small scripts in
``static/js/`` (no inline script: the CSP forbids it).
"""
