"""``{% error_summary form %}``: the box at the top of a form that failed, listing each error
with a link to its field, so that a screen reader user (and anyone on a long form) hears every
problem at once and reaches each field in one step. ``error-summary.js`` moves the focus to the
box; without JavaScript it is still first in the form's page, with working links."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms, template

register = template.Library()


@dataclass(frozen=True)
class SummaryItem:
    anchor: str  # the id of the element the link leads to; empty for errors of the whole form
    label: str
    message: str


def _anchor(bound: forms.BoundField) -> str:
    # A radio list has no element with the field's own id: its first choice has "<id>_0".
    if isinstance(bound.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound.auto_id}_0" if bound.auto_id else ""
    return bound.id_for_label or bound.auto_id or ""


def error_summary_items(form: forms.BaseForm) -> list[SummaryItem]:
    items = [SummaryItem("", "", str(message)) for message in form.non_field_errors()]
    for bound in form:
        items.extend(SummaryItem(_anchor(bound), str(bound.label), str(message)) for message in bound.errors)
    return items


@register.inclusion_tag("core/_error_summary.html")
def error_summary(form: forms.BaseForm | None) -> dict[str, object]:
    return {"items": error_summary_items(form) if form is not None and form.errors else []}
