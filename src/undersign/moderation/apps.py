from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_noop

MODERATORS_GROUP = "moderators"
# What moderators may look at in Django's admin: read-only views, never changes.
MODERATOR_VIEW_PERMISSIONS = [
    ("petitions", "view_petition"),
    ("petitions", "view_petitionevent"),
    ("petitions", "view_petitionresponse"),
    ("signatures", "view_signature"),
]


def grant_moderator_view_permissions(sender, using="default", **kwargs) -> None:
    """Permissions exist only after every app's migrations ran, so this runs on post_migrate
    rather than in a migration of its own."""
    from django.contrib.auth.models import Group, Permission  # apps.py loads before any model can

    group, _ = Group.objects.using(using).get_or_create(name=MODERATORS_GROUP)
    for app_label, codename in MODERATOR_VIEW_PERMISSIONS:
        permission = (
            Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename).first()
        )
        if permission is not None:
            group.permissions.add(permission)


class ModerationConfig(AppConfig):
    name = "undersign.moderation"
    label = "moderation"

    def ready(self) -> None:
        # Not sender=self: post_migrate is sent only for apps with models, and this one has
        # none. The handler is idempotent; it runs once per app and adds what exists by then.
        post_migrate.connect(grant_moderator_view_permissions, dispatch_uid="undersign-moderator-permissions")
        # In ready(), as Django asks: it imports models, which load only after the app registry
        # is populated.
        from undersign.moderation import emails  # noqa: F401  (registers its renderers with the outbox)
        from undersign.moderation.services import search_approvals_delete_expired
        from undersign.retention.registry import register_retention_job

        register_retention_job(
            gettext_noop("delete cross-petition search approvals"),  # shown translated on the retention page
            search_approvals_delete_expired,
            setting_names=("STAFF_AUDIT_RETENTION_DAYS",),
        )
