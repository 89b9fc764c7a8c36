import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_a_committed_migration() -> None:
    # Raises SystemExit(1) when makemigrations would write a file.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
