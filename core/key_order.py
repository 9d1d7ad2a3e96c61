"""The key order of JSON objects, kept where the database forgets it.

PostgreSQL's jsonb stores an object's keys sorted (shorter first, then bytewise), so an
action that returns {"z": 1, "a": 2} would be shown {"a": 2, "z": 1}. A `KeyOrderField`
beside a JSON field records the order its value was written in, only where it differs
from the order the database gives back (NULL otherwise: the usual case costs a walk of the
value and no bytes), and `ordered()` puts it back when the value is shown. SQLite keeps
the JSON text as written, so nothing is recorded there.

An order is {"k": [keys in written order], "c": {key or list index: child order}}, or for
a list whose items all share one order {"e": that order}; each part only where needed.
"""

import functools
import json

from django.db import connection, models


def reorders():
    """Whether this database re-sorts the keys of stored JSON objects."""
    return connection.vendor == "postgresql"


def of(value):
    """The order to record for `value`, or None when the database keeps it already."""
    kind = type(value)
    if kind is dict:
        found = {}
        if not _in_stored_order(tuple(value)):
            found["k"] = [key if type(key) is str else json.dumps(key) for key in value]
        children = {}
        for key, item in value.items():
            if type(item) in CONTAINERS and (child := of(item)) is not None:
                children[key if type(key) is str else json.dumps(key)] = child
        if children:
            found["c"] = children
        return found or None
    if kind is list:
        orders = [of(item) if type(item) in CONTAINERS else None for item in value]
        if len(orders) > 1 and orders[0] is not None and orders.count(orders[0]) == len(orders):
            return {"e": orders[0]}  # every item alike: a list of records, said once
        children = {str(i): order for i, order in enumerate(orders) if order is not None}
        return {"c": children} if children else None
    return None


CONTAINERS = (dict, list)


@functools.lru_cache(maxsize=4096)
def _in_stored_order(keys):
    """Whether `keys` are already in jsonb's order: by length in bytes, then bytewise.
    Cached: the items of a list of records share their keys."""
    ranks = [(len(raw), raw) for raw in (str(key).encode() for key in keys)]
    return all(a < b for a, b in zip(ranks, ranks[1:], strict=False))


def restore(value, order):
    """`value` with its objects' keys in the recorded `order` (any key the order does not
    name keeps its place after the named ones)."""
    if not order:
        return value
    children = order.get("c") or {}
    if isinstance(value, dict):
        if children:
            value = {key: restore(item, children.get(key)) for key, item in value.items()}
        keys = order.get("k")
        if keys:
            ordered = {key: value[key] for key in keys if key in value}
            ordered.update(value)
            return ordered
        return value
    if isinstance(value, list) and "e" in order:
        return [restore(item, order["e"]) for item in value]
    if isinstance(value, list) and children:
        return [restore(item, children.get(str(index))) for index, item in enumerate(value)]
    return value


def ordered(row, field):
    """The JSON field `field` of a model instance, in the key order it was written in."""
    return restore(getattr(row, field), getattr(row, f"{field}_keys", None))


class KeyOrderField(models.JSONField):
    """The key order of the model's JSON field `source`, computed whenever the row is
    saved (and by runner/fastsql.py for the writes it makes itself)."""

    def __init__(self, *args, source="", **kwargs):
        self.source = source
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for default in ("null", "blank", "editable"):
            kwargs.pop(default, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = of(getattr(model_instance, self.source)) if reorders() else None
        setattr(model_instance, self.attname, value)
        return value


def orders_of(model):
    """{JSON field name: its KeyOrderField's attname} of a model."""
    return {
        field.source: field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, KeyOrderField)
    }


class KeepsKeyOrder:
    """A model mixin: its JSON fields with a KeyOrderField come back from the database in
    the order they were written in, so whatever shows or edits them (a workflow's draft and
    versions) needs no care of its own, and a save naming one in `update_fields` records
    its order too.

    Not for rows the engine reads on every step (runs, steps): restoring walks the value on
    each read, so those put the order back once per run (runner/run_state.py) or where
    they are shown. Action versions may: a worker reads each once (runner/run_state.py).
    """

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        row = super().from_db(db, field_names, values, **kwargs)
        loaded = row.__dict__  # a deferred field is absent: never load it here
        for source, attname in _orders(cls).items():
            order = loaded.get(attname)
            if order is not None and source in loaded:
                loaded[source] = restore(loaded[source], order)
        return row

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:
            sources = _orders(type(self))
            update_fields = [*update_fields, *(sources[f] for f in update_fields if f in sources)]
        super().save(*args, update_fields=update_fields, **kwargs)


@functools.cache
def _orders(model):
    return orders_of(model)


def with_orders(model, fields, sources):
    """`fields` (a write of some of `model`'s columns) plus the key orders of the JSON
    fields among them; `sources` is `orders_of(model)` (cached by the caller)."""
    if not sources or not reorders():
        return fields
    added = {sources[name]: of(value) for name, value in fields.items() if name in sources}
    return {**fields, **added} if added else fields
