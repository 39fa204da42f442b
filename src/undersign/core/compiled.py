"""A hot path's one-row query, compiled to SQL once per process and database instead of on
every request.

Django compiles a queryset afresh each time it is evaluated: for the sign and confirm
requests' one read (a petition with its verification policy; a signature with its petition
and the relations higher apps registered) that compilation cost four times the query itself,
and instantiating the rows cost as much again through ``QuerySet`` machinery. ``OneRow`` keeps
the compiled SQL with a placeholder for the one value that changes and builds the objects as
Django's own ``ModelIterable`` does (``Model.from_db`` and the ``select_related`` populators),
so the objects are the same, related objects cached, as ``queryset.first()`` would give.
It relies on the compiler's ``select``/``klass_info``, stable across Django 4 and 5; its tests
compare it with the queryset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    position: int  # where the looked-up value goes in ``params``
    compiler: Any
    converters: Any
    init_list: list[str]
    fields_start: int
    fields_end: int
    populators: list[Any]


class OneRow(Generic[M]):
    """``build(value)`` must return the same queryset of ``model`` for every value, with
    ``value`` in exactly one query parameter (a filter on a unique key), and no ``.only`` or
    ``.annotate``. ``get(value)`` is then ``build(value).first()`` without its ordering (at most
    one row matches a unique key). ``samples``: two different values of the key's type, to find
    which parameter is the key's; a looked-up value must be one the database driver takes as
    it is (an int, bytes), as the key's field would pass it."""

    def __init__(self, model: type[M], build: Callable[[Any], QuerySet[M]], samples: tuple[Any, Any]) -> None:
        self.model = model
        self.build = build
        self.samples = samples
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        first, second = (self.build(sample)[:1].query.get_compiler(using=alias) for sample in self.samples)
        sql, params = first.as_sql()
        other_sql, other_params = second.as_sql()
        positions = [i for i, (a, b) in enumerate(zip(params, other_params, strict=True)) if a != b]
        if sql != other_sql or len(positions) != 1:
            raise ValueError("the looked-up value must be exactly one query parameter")
        select, klass_info = first.select, first.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            position=positions[0],
            compiler=first,
            converters=first.get_converters([column for column, _, _ in select]),
            init_list=[column.target.attname for column, _, _ in select[start:end]],
            fields_start=start,
            fields_end=end,
            populators=get_related_populators(klass_info, select, alias),
        )

    def get(self, value: Any) -> M | None:
        alias = router.db_for_read(self.model)
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = self._compile(alias)
        params = list(compiled.params)
        params[compiled.position] = value
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            row = next(iter(compiled.compiler.apply_converters([row], compiled.converters)))
        obj = self.model.from_db(alias, compiled.init_list, row[compiled.fields_start : compiled.fields_end])
        for populator in compiled.populators:
            populator.populate(row, obj)
        return obj
