"""Actions registered in code with @action, and their sync into Action/ActionVersion rows.

A changed schema, retry policy or timeout, or a bumped `version=`, makes a new
ActionVersion on the next sync; earlier versions stay in the database and runnable.
"""

import hashlib
import importlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from core.retry import DEFAULT_POLICY


@dataclass(frozen=True)
class RegisteredAction:
    name: str
    function: object
    version: int
    input_schema: dict
    output_schema: dict | None
    retry: dict
    timeout_s: float
    description: str = ""
    extra: dict = field(default_factory=dict)
    pure: bool = False  # no side effects: running it twice is the same as once
    ui: dict = field(default_factory=dict)  # field -> "line" | "textarea": the run form's widget

    def fingerprint(self):
        declared = [self.version, self.input_schema, self.output_schema, self.retry, self.timeout_s]
        return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()


REGISTRY: dict[str, dict[int, RegisteredAction]] = {}


def action(
    name,
    *,
    version=1,
    input_schema=None,
    output_schema=None,
    retry=None,
    timeout_s=30,
    pure=False,
    ui=None,
):
    """Register a Python function `fn(ctx, input) -> output` as action `name`.

    `pure=True` declares it free of side effects and quick (a transformation, a check):
    the engine may then run it inside the transaction that started it, batching the
    records of consecutive pure steps (runner/engine.py `complete_attempt`).
    """

    def register(function):
        REGISTRY.setdefault(name, {})[version] = RegisteredAction(
            name=name,
            function=function,
            version=version,
            input_schema=input_schema or {"type": "object"},
            output_schema=output_schema,
            retry={**DEFAULT_POLICY, **(retry or {})},
            timeout_s=timeout_s,
            description=(function.__doc__ or "").strip().split("\n")[0],
            pure=pure,
            ui=ui or {},
        )
        return function

    return register


def load_builtins():
    """Import the modules whose @action calls fill REGISTRY: the built-ins, then the
    project's own (`ACTION_MODULES`). Cheap once imported."""
    from core.actions import builtins  # noqa: F401

    for module in settings.ACTION_MODULES:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ImproperlyConfigured(f"ACTION_MODULES: cannot import {module}: {error}")


def function_for(name, code_version):
    """The function behind a python ActionVersion: its own code version, else the newest."""
    registered = _registered(name, code_version)
    return registered.function if registered else None


def is_pure(action_version):
    """Declared free of side effects (`@action(pure=True)`); only Python actions can be."""
    if action_version.kind != "python":
        return False
    registered = _registered(action_version.action.name, action_version.code_version)
    return bool(registered and registered.pure)


def run_form_hints(action_version):
    """SchemaForm keywords for a Python action's run form: the widgets it asked for, and
    its fields in the order its code declares them (PostgreSQL's jsonb keeps object keys
    in an order of its own)."""
    if action_version.kind != "python":
        return {}
    registered = _registered(action_version.action.name, action_version.code_version)
    if registered is None:
        return {}
    return {"ui": registered.ui, "order": list(registered.input_schema.get("properties", {}))}


def _registered(name, code_version):
    load_builtins()
    versions = REGISTRY.get(name) or {}
    if code_version in versions:
        return versions[code_version]
    if versions:
        return versions[max(versions)]
    return None


def sync_actions():
    """Create the Action and ActionVersion rows for every registered action; idempotent."""
    from core.models import Action, ActionKind, ActionVersion

    load_builtins()
    created = 0
    for name, versions in sorted(REGISTRY.items()):
        for registered in sorted(versions.values(), key=lambda r: r.version):
            with transaction.atomic():
                action_row, _ = Action.objects.get_or_create(
                    workspace=None, name=name, defaults={"description": registered.description}
                )
                fingerprint = registered.fingerprint()
                known = ActionVersion.objects.filter(action=action_row, fingerprint=fingerprint)
                if known.exists():
                    continue
                latest = action_row.versions.select_for_update().order_by("-version").first()
                ActionVersion.objects.create(
                    action=action_row,
                    version=(latest.version + 1) if latest else 1,
                    kind=ActionKind.PYTHON,
                    input_schema=registered.input_schema,
                    output_schema=registered.output_schema,
                    retry_policy=registered.retry,
                    timeout_s=registered.timeout_s,
                    code_version=registered.version,
                    fingerprint=fingerprint,
                )
                created += 1
    return created


def sync_after_migrate(**kwargs):
    sync_actions()
