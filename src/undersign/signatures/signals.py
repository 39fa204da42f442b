"""Hooks through which apps above ``signatures`` act on its changes (they connect receivers in
their ``AppConfig.ready``); ``signatures`` itself imports none of them."""

from django.dispatch import Signal

# Sent inside ``signature_confirm``'s transaction, after the guarded UPDATE, with
# ``signature=`` the confirmed signature (its petition and, when read, its claim cached).
# A receiver's exception rolls the confirmation back.
signature_confirmed = Signal()
