"""The apps stand in a line (docs/architecture.md), and foreign keys count as imports.

import-linter (``make lint``) checks the Python imports against the ``layers`` contract in
pyproject.toml; it cannot see a relation written as ``"app.Model"``, so this test walks every
model's relations and fails on one that points at a higher layer. The order is read from that
same contract, so there is one list to keep.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.apps import apps

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def layer_order() -> list[str]:
    """App labels from the ground floor up."""
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c.get("type") == "layers"]
    return [name.removeprefix("undersign.") for name in reversed(layers)]


def our_relations() -> list[tuple[str, str, str]]:
    """(model, field, related app label) for every relation of our models."""
    ours = set(layer_order())
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in ours:
            continue
        for field in model._meta.get_fields(include_hidden=True):
            if field.is_relation and field.concrete and field.related_model is not None:
                found.append((model._meta.label, field.name, field.related_model._meta.app_label))
    return found


def test_every_app_of_ours_has_a_layer():
    ours = {config.label for config in apps.get_app_configs() if config.name.startswith("undersign.")}
    assert ours == set(layer_order())


def test_no_relation_points_at_a_higher_layer():
    rank = {label: n for n, label in enumerate(layer_order())}
    upward = [
        f"{model}.{field} -> {target}"
        for model, field, target in our_relations()
        if target in rank and rank[target] > rank[model.split(".")[0]]
    ]
    assert upward == []


def test_core_has_no_relation_to_any_app_of_ours():
    ours = set(layer_order())
    assert [(m, f, t) for m, f, t in our_relations() if m.startswith("core.") and t in ours] == []
