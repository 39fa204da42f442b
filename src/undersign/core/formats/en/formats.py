"""English pages write dates and numbers as in Britain ("7 Dec 2026"), not as Django's "en"
does (American: "Dec. 7, 2026"): the site's English was en-gb before languages had URLs."""

from django.conf.locale.en_GB.formats import *  # type: ignore[import-untyped]  # noqa: F403
