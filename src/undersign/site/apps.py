from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The top floor: pages that bring several capabilities together (home, the petition pages,
    the create wizard, the staff landing page), health, error pages, the periodic job list and
    the demo data. It may import every app; none imports it."""

    name = "undersign.site"
    label = "site"
    verbose_name = "Site"
