"""Validation of a for-each step's fields: `for_each`, `max_concurrency`, `on_item_failure`.

builder/definition.py calls this module for action steps; the engine's side is
runner/for_each.py and the format is in the README ("For-each").
"""

from core import references

FIELDS = frozenset({"for_each", "max_concurrency", "on_item_failure"})
MAX_CONCURRENCY = 1000
ITEM_FAILURE = ("fail_fast", "collect")
# What an item's input may refer to beyond input/steps/secrets/run; its compensation
# also reads the output of the item it undoes.
ITEM_ROOTS = frozenset({"item", "item_index"})
COMPENSATION_ROOTS = ITEM_ROOTS | {"item_output"}


def check(step, where, errors):
    """The for-each fields, normalized ({} for a step without `for_each`)."""
    if "for_each" not in step:
        for field in sorted(FIELDS & step.keys()):
            errors.add(f"{where}.{field}", "only for a for-each step: set for_each too")
        return {}
    source = step["for_each"]
    clean = {"for_each": source.strip() if isinstance(source, str) else source}
    if not references.is_whole_reference(source):
        errors.add(
            f"{where}.for_each",
            "must be one reference to a list, e.g. {{ steps.fetch.output.items }}",
        )
    elif source.split("{{", 1)[1].split("}}")[0].strip().split(".", 1)[0] not in (
        "input",
        "steps",
    ):
        errors.add(f"{where}.for_each", "must refer to the input or an earlier step's output")
    if "max_concurrency" in step:
        limit = step["max_concurrency"]
        if isinstance(limit, bool) or not isinstance(limit, int):
            errors.add(f"{where}.max_concurrency", f"must be a whole number 1-{MAX_CONCURRENCY}")
        elif not 1 <= limit <= MAX_CONCURRENCY:
            errors.add(f"{where}.max_concurrency", f"must be between 1 and {MAX_CONCURRENCY}")
        else:
            clean["max_concurrency"] = limit
    if "on_item_failure" in step:
        mode = step["on_item_failure"]
        if mode not in ITEM_FAILURE:
            errors.add(f"{where}.on_item_failure", f"must be one of: {', '.join(ITEM_FAILURE)}")
        else:
            clean["on_item_failure"] = mode
    return clean
