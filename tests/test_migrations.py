"""The models and the migrations agree: a model change without its migration would pass
every test (the test database is built from the migrations) and break on upgrade."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_its_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as missing:
        raise AssertionError(f"a migration is missing:\n{out.getvalue()}") from missing
