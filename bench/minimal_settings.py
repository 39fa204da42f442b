"""The settings of the benchmark's ``minimal-post`` phase: the project's own production settings
(same database connections, middleware, CSRF, keys) with one URL configuration swapped for
``bench.minimal_urls``, a POST view that does one INSERT. It is the ceiling the sign path is
compared with: what this server stack does for a Django POST that stores one row and nothing
else. Loaded only by ``bench/run`` (``DJANGO_SETTINGS_MODULE=bench.minimal_settings``), never by
the app.

``BENCH_MINIMAL_MIDDLEWARE=csrf`` keeps only Django's CSRF middleware, for the floor below the
project's middleware; the default (``full``) keeps the project's list as it is.
"""

import os

from undersign.settings import *  # noqa: F403 - the project's settings, one line changed
from undersign.settings import MIDDLEWARE, SILENCED_SYSTEM_CHECKS

ROOT_URLCONF = "bench.minimal_urls"

if os.environ.get("BENCH_MINIMAL_MIDDLEWARE", "full") == "csrf":
    MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]
    # The admin's checks want its middleware; this stack serves no admin page.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "admin.E408", "admin.E409", "admin.E410"]
elif os.environ.get("BENCH_MINIMAL_MIDDLEWARE", "full") != "full":
    raise ValueError("BENCH_MINIMAL_MIDDLEWARE must be 'full' or 'csrf'")
else:
    MIDDLEWARE = list(MIDDLEWARE)
