"""The scale bench's fill clones real runs faithfully: every copy has its template's
steps, attempts and events, its own customer, and compensations that point at its own steps."""

import pytest
from django.db.models import Count

from runner.bench import scale, scale_fill
from runner.models import Attempt, Run, StepRun


@pytest.mark.postgresql_only(reason="the fill is INSERT … SELECT generate_series, for PostgreSQL")
@pytest.mark.django_db
def test_the_fill_clones_runs_with_their_steps_attempts_and_events():
    # When 200 runs are filled into one workspace
    scale_fill.fill(200, 1, progress=lambda line: None)
    runs = Run.objects.filter(workspace__slug="scale-1")
    # Then about 200 runs exist besides the three templates, in the three shapes
    assert 200 <= runs.count() <= 205
    by_status = dict(runs.values_list("status").annotate(n=Count("id")))
    assert by_status.keys() == {"succeeded", "compensated", "failed"}
    # And each copy has exactly its template's attempts (10, 7 or 4) and its own customer
    per_run = runs.annotate(n=Count("attempts")).values_list("workflow__slug", "n")
    assert {slug: n for slug, n in per_run} == {"orders": 10, "saga": 7, "charge": 4}
    assert runs.values("input__customer_id").distinct().count() > 50
    # And a copy's compensation steps compensate its own steps, never the template's
    comps = StepRun.objects.filter(run__in=runs, kind="compensation")
    assert comps.exists()
    assert not comps.exclude(compensates__run_id=models_f_run()).exists()
    assert (
        Attempt.objects.filter(run__in=runs).exclude(step_run__run_id=models_f_run()).count() == 0
    )
    # And the pages of a big workspace answer (the measurement runs end to end)
    rows, plan = scale.measure("scale-1", 1, progress=lambda line: None)
    assert {name for name, _, _ in rows} >= {
        "runs list, first page",
        "dashboard",
        "/metrics scrape",
    }
    assert "slowest statement" in plan


def models_f_run():
    from django.db.models import F

    return F("run_id")
