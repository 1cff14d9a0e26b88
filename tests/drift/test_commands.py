"""Management commands that hand out API credentials."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from drift.models import IntegrationKey
from tests.conftest import prediction, token_client


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_drf_create_token_gives_a_user_a_working_personal_token(carol):
    out, _ = run("drf_create_token", "carol")

    key = out.split()[2]  # "Generated token <key> for user carol"
    answer = token_client(key=key).get("/api/v1/models/")
    assert answer.status_code == 200


def test_create_integration_key_prints_a_key_that_writes_telemetry_for_its_model(credit_v1):
    out, err = run("create_integration_key", "--model", "credit-risk", "--name", "scoring service")

    key = out.strip()
    assert key.startswith("dwi_") and len(key) > 40
    assert "cannot be shown again" in err and key not in err
    stored = IntegrationKey.objects.get()
    assert (stored.model, stored.name, key.startswith(stored.prefix)) == (
        credit_v1.model,
        "scoring service",
        True,
    )
    assert key not in stored.key_hash
    answer = token_client(key=key).post(
        "/api/v1/models/credit-risk/predictions/",
        {"version": "v1", "records": [prediction(0)]},
        format="json",
    )
    assert answer.status_code == 200, answer.json()


def test_each_run_prints_a_new_key(credit_v1):
    first, _ = run("create_integration_key", "--model", "credit-risk", "--name", "a")
    second, _ = run("create_integration_key", "--model", "credit-risk", "--name", "b")

    assert first != second
    assert IntegrationKey.objects.count() == 2


def test_create_integration_key_for_an_unknown_model_lists_the_known_ones(credit_model):
    with pytest.raises(CommandError, match=r"No model with slug 'credit'\. Known models: credit-risk\."):
        run("create_integration_key", "--model", "credit", "--name", "scoring")

    assert not IntegrationKey.objects.exists()


@pytest.mark.parametrize("name", ["   ", "x" * 101])
def test_create_integration_key_refuses_an_empty_or_overlong_name(credit_model, name):
    with pytest.raises(CommandError, match="1 to 100 characters"):
        run("create_integration_key", "--model", "credit-risk", "--name", name)


def test_create_integration_key_needs_both_options(db):
    with pytest.raises(CommandError, match="--name"):
        run("create_integration_key", "--model", "credit-risk")
