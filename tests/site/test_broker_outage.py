"""A broker that refuses messages never fails the request whose side effect it would carry: the work
stays recorded in the database and is sent again later (unit level; tests/faults stops a real Redis)."""

from datetime import timedelta

import pytest
from kombu.exceptions import OperationalError as BrokerUnavailable

from drift.models import AnalysisRun, ReferenceDataset
from monitoring_site.broker import send, send_each
from tests.conftest import prediction

pytestmark = pytest.mark.django_db(transaction=True)


def refuse(*args, **kwargs):
    raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def reference_rows(n: int = 60) -> list[dict]:
    return [{"features": prediction(i)["features"], "prediction": i % 2, "label": i % 2} for i in range(n)]


@pytest.fixture(autouse=True)
def _roles() -> None:
    from django.contrib.auth.models import Group

    from drift.roles import ROLES

    for name in ROLES:
        Group.objects.get_or_create(name=name)


def test_a_reference_upload_succeeds_while_the_broker_is_down(api, alice, credit_v1, monkeypatch, caplog):
    monkeypatch.setattr("drift.tasks.profiles_rebuild_task.delay", refuse)

    answer = api(alice).post(
        "/api/v1/models/credit-risk/versions/v1/reference/", {"records": reference_rows()}, format="json"
    )

    assert answer.status_code == 201, answer.content[:300]
    assert ReferenceDataset.objects.get(version=credit_v1).row_count == 60
    assert "broker unavailable: drift.tasks.profiles_rebuild_task" in caplog.text


def test_an_analysis_requested_while_the_broker_is_down_waits_for_the_dispatcher(
    api, alice, credit_v1, monkeypatch, eager_celery
):
    from drift.services.analysis_dispatch import analyses_dispatch
    from drift.services.reference import reference_upload

    reference_upload(version=credit_v1, rows=reference_rows(), source="json")
    monkeypatch.setattr("drift.tasks.analysis_execute.delay", refuse)

    answer = api(alice).post(
        "/api/v1/models/credit-risk/analyses/",
        {"window_start": "2026-11-20T00:00:00Z", "window_end": "2026-11-20T06:00:00Z"},
        format="json",
    )

    assert answer.status_code == 202, answer.content[:300]
    run = AnalysisRun.objects.get(pk=answer.json()["id"])
    assert (run.status, run.enqueued_at) == ("pending", None)  # not "sent": the next beat sends it
    monkeypatch.undo()
    assert analyses_dispatch(now=run.window_end + timedelta(days=1)) >= 1
    run.refresh_from_db()
    assert run.status in {"done", "no_data"} and run.attempts == 1


def test_sending_stops_at_the_first_refusal(monkeypatch):
    calls = []

    class Task:
        name = "t"

        def delay(self, item):
            calls.append(item)
            if item == 2:
                refuse()

    assert send(Task(), 1) is True
    assert send_each(Task(), [1, 2, 3, 4]) == [2, 3, 4]
    assert calls == [1, 1, 2]


def test_a_serving_mode_change_succeeds_while_the_broker_is_down_and_its_notice_is_sent_later(
    alice, credit_model, monkeypatch, django_capture_on_commit_callbacks, eager_celery
):
    from django.core import mail
    from django.utils import timezone

    from governance.models import Delivery
    from governance.services.audit import Actor
    from governance.services.gate import serving_mode_set
    from governance.services.notifications import RESEND_AFTER, channel_create, deliveries_resend

    channel_create(
        model=credit_model, name="ops", kind="email", target="ops@example.com", actor=Actor.of(alice)
    )
    monkeypatch.setattr("governance.tasks.notification_deliver.delay", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        state = serving_mode_set(model=credit_model, mode="paused", reason="odd traffic", by=alice)

    assert state.mode == "paused"
    delivery = Delivery.objects.get(channel__model=credit_model)
    assert (delivery.status, delivery.attempts) == ("pending", 0)

    monkeypatch.undo()
    assert deliveries_resend(now=timezone.now() + RESEND_AFTER * 2) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and len(mail.outbox) == 1
