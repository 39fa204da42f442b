from django.apps import AppConfig


class MirrorConfig(AppConfig):
    """A static copy of everything public, for any static host or a USB stick: the log, the
    open data and a page per published petition (``export_mirror``; docs/deployment.md). Above
    the site, whose charts it draws; no app imports it."""

    name = "undersign.mirror"
    label = "mirror"
    verbose_name = "Mirror"
