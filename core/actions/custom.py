"""Custom actions made in the UI or the API: `http` request templates and `script` commands.

Each save makes a new immutable ActionVersion; runs pinned to older versions keep them.
"""

import re

from django.db import transaction

from core import references, schemas
from core.errors import FieldErrors
from core.models import Action, ActionKind, ActionVersion
from core.retry import DEFAULT_POLICY, validate_policy

NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
HTTP_FIELDS = {"method", "url", "headers", "json", "body", "timeout"}


def save_custom_action(
    workspace,
    *,
    name,
    kind,
    config,
    input_schema=None,
    output_schema=None,
    retry_policy=None,
    timeout_s=30,
    description="",
    user=None,
):
    """Validate, then create the action (first time) and its next version.

    Raises FieldErrors with one list of messages per field. Script actions run commands
    on the workers' hosts, so only staff may create them.
    """
    errors = {}
    if not isinstance(name, str) or not NAME.match(name):
        errors["name"] = ["use lowercase dotted names like crm.update_record"]
    elif Action.objects.filter(workspace__isnull=True, name=name).exists():
        errors["name"] = [f"{name} is a built-in action"]
    if kind == ActionKind.HTTP:
        errors.update(_http_config_errors(config))
    elif kind == ActionKind.SCRIPT:
        if not (user is not None and user.is_staff):
            errors["kind"] = ["only staff can create script actions"]
        errors.update(_script_config_errors(config))
    else:
        errors["kind"] = ["must be http or script"]
    input_schema = input_schema if input_schema is not None else {"type": "object"}
    for field, schema in (("input_schema", input_schema), ("output_schema", output_schema)):
        if schema is not None and (message := schemas.check_schema(schema)):
            errors[field] = [message]
    for field, message in validate_policy(retry_policy or {}).items():
        errors[f"retry_policy.{field}" if field else "retry_policy"] = [message]
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float):
        errors["timeout_s"] = ["must be a number of seconds"]
    elif not 0 < timeout_s <= 3600:
        errors["timeout_s"] = ["must be between 0 and 3600"]
    if errors:
        raise FieldErrors(errors, "The action is invalid")
    with transaction.atomic():
        action, _ = Action.objects.get_or_create(
            workspace=workspace, name=name, defaults={"description": description}
        )
        if description and action.description != description:
            action.description = description
            action.save(update_fields=["description"])
        latest = action.versions.select_for_update().order_by("-version").first()
        if latest is not None and latest.kind != kind:
            raise FieldErrors({"kind": [f"{name} is a {latest.kind} action"]})
        return ActionVersion.objects.create(
            action=action,
            version=(latest.version + 1) if latest else 1,
            kind=kind,
            input_schema=input_schema,
            output_schema=output_schema,
            retry_policy={**DEFAULT_POLICY, **(retry_policy or {})},
            timeout_s=timeout_s,
            config=config,
            created_by=user,
        )


def _http_config_errors(config):
    if not isinstance(config, dict):
        return {"config": ["must be an object with method, url, headers, json or body"]}
    errors = {}
    for field in config.keys() - HTTP_FIELDS:
        errors[f"config.{field}"] = ["unknown field"]
    if str(config.get("method", "GET")).upper() not in HTTP_METHODS:
        errors["config.method"] = [f"must be one of {', '.join(sorted(HTTP_METHODS))}"]
    url = config.get("url")
    if not isinstance(url, str) or not re.match(r"^(https?://|{{)", url):
        errors["config.url"] = ["must start with http:// or https://"]
    headers = config.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        errors["config.headers"] = ["must be an object of strings"]
    if "json" in config and "body" in config:
        errors["config.body"] = ["give json or body, not both"]
    for field, path in references.find(config):
        root = path.split(".", 1)[0]
        if root not in ("input", "secrets", "run"):
            errors.setdefault(f"config.{field}", []).append(
                f"{{{{ {path} }}}}: templates may use input, secrets or run.id"
            )
    return errors


def _script_config_errors(config):
    if not isinstance(config, dict):
        return {"config": ["must be an object with a command"]}
    command = config.get("command")
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(part, str) and part for part in command)
    ):
        return {"config.command": ["must be a list of strings: the program and its arguments"]}
    return {}
