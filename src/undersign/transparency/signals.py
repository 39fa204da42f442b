"""Hooks through which apps above the log act on what its integrator decides (they connect
receivers in their ``AppConfig.ready``); the log itself imports none of them."""

from django.dispatch import Signal

# Sent inside the integrator's transaction with ``signature_ids=`` (the ``signature_id`` of
# SIGNATURE entries dropped because their petition's CLOSED was appended first) and ``now=``.
# The signatures app invalidates them as confirmed too late.
signatures_too_late = Signal()
