"""Runs as the lists show them: light rows (no definitions or payloads) with a title."""

from django.db.models import CharField, F
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from runner.models import Run

HEAVY = (
    "definition", "action_versions", "input", "output", "error",
    "input_keys", "output_keys", "definition_keys",
)  # fmt: skip
WORKFLOW_HEAVY = ("workflow__draft", "workflow__draft_keys", "workflow__description")


def light_runs(queryset=None):
    """A queryset of runs ready for a table: one query, whatever the number of rows."""
    queryset = Run.objects.all() if queryset is None else queryset
    return (
        queryset.select_related("workflow", "action")
        .defer(*HEAVY, *WORKFLOW_HEAVY, "action__description")
        .annotate(
            label=Coalesce(
                F("workflow__name"),
                F("action__name"),
                KT("definition__name"),
                output_field=CharField(),
            ),
            error_message=KT("error__message"),
            error_step=KT("error__step"),
        )
    )
