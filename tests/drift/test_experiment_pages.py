"""The experiment pages: the list (filters, pages, CSV, empty state), one experiment (summary first,
charts, tables, CSV), and the decision form that only analysts and admins may use."""

import csv
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from drift.models import Experiment, Stage
from drift.services.experiment_evaluation import experiment_evaluate
from drift.services.experiments import experiment_create, experiment_start, experiment_stop
from governance.models import AuditEntry
from governance.services.audit import Actor
from tests.drift.experiments_support import FIRST_HOUR, add_challenger, definition, feed_hours, moving
from tests.drift.pages_support import plain_static_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    plain_static_files(settings)


@pytest.fixture
def clock():
    with moving() as c:
        yield c


@pytest.fixture
def credit_v2(credit_v1):
    return add_challenger(credit_v1)


@pytest.fixture
def running(credit_v1, credit_v2, alice, clock) -> Experiment:
    spec = definition(
        credit_v2.model,
        hypothesis="v2 should be more accurate.",
        guardrails=[{"metric": "latency_p95", "margin": 0.2}, {"metric": "error_rate", "margin": 0.01}],
    )
    experiment = experiment_start(
        experiment=experiment_create(spec=spec, actor=Actor.of(alice)), actor=Actor.of(alice)
    )
    feed_hours([(credit_v1, 300, 0.80), (credit_v2, 300, 0.81)], hours=3)
    clock.at(FIRST_HOUR + timedelta(hours=3, minutes=5))
    experiment_evaluate(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    assert experiment.status == "running"  # no rule fires on three hours of a small difference
    return experiment


@pytest.fixture
def stopped(running, alice) -> Experiment:
    experiment_stop(experiment=running, reason="Quarter-end freeze", actor=Actor.of(alice))
    running.refresh_from_db()
    return running


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:300])
    return response.content.decode()


def main_forms(text: str) -> list[str]:
    """The POST forms of the page's main area (the header's sign-out form is not one of them)."""
    main = text.split('<main id="main"', 1)[1]
    return re.findall(r'<form method="post" action="([^"]+)"', main)


def test_signed_out_visitors_are_sent_to_sign_in(running):
    for url in ("/experiments/", f"/experiments/{running.pk}/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={url}"


def test_the_list_says_what_to_do_when_there_is_no_experiment(alice, carol):
    assert "POST /api/v1/experiments/" in html(client_of(alice).get("/experiments/"))
    viewer = html(client_of(carol).get("/experiments/"))
    assert "No experiments yet" in viewer and "Ask an analyst" in viewer
    assert 'href="/experiments/"' in viewer  # the navigation entry, for every role


def test_the_list_filters_pages_and_downloads(running, credit_v2, alice, carol):
    for k in range(21):
        experiment_create(spec=definition(credit_v2.model, name=f"draft {k}"), actor=Actor.of(alice))
    viewer = client_of(carol)

    first = html(viewer.get("/experiments/"))
    assert "22 experiments" in first and "Page 1 of 2" in first and "page=2" in first
    running_only = html(viewer.get("/experiments/?status=running"))
    assert f'href="/experiments/{running.pk}/"' in running_only and "draft 3" not in running_only
    assert "Running" in running_only and "v1 (control) · v2" in running_only
    refused = html(viewer.get("/experiments/?status=bogus"), 400)
    assert "status: one of draft, running, stopped, concluded" in refused
    assert "no model &#x27;nope&#x27;" in html(viewer.get("/experiments/?model=nope"), 400)
    assert "No experiments match these filters" in html(viewer.get("/experiments/?status=concluded"))

    response = viewer.get("/experiments/?status=running&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv") and rows[0][:3] == ["id", "model", "name"]
    assert rows[1][:4] == [str(running.pk), "credit-risk", "v2 against v1", "running"] and len(rows) == 2


def test_the_page_puts_the_summary_first_then_draws_its_charts(running, carol):
    text = html(client_of(carol).get(f"/experiments/{running.pk}/"))

    summary = text.index("Where it stands")
    assert summary < text.index("What the stopping rule says") < text.index('data-figure="fig-lift"')
    assert "No stopping rule has fired: keep it running" in text
    assert "Too little traffic to judge the split yet" in text or "Traffic split as planned" in text
    for name in ("lift", "arms", "allocation"):
        found = re.search(rf'<script id="fig-{name}" type="application/json">(.*?)</script>', text, re.S)
        assert found and json.loads(found.group(1))["data"], name
    assert "latency p95" in text and "serving error rate" in text  # the guardrails table
    assert "v2 should be more accurate." in text and "js/experiment.js" in text
    assert "<script>" not in text  # no inline script: the CSP forbids it


def test_a_draft_page_says_it_has_not_started_and_offers_no_action(credit_v2, alice):
    draft = experiment_create(
        spec=definition(credit_v2.model, primary_metric="error_rate"), actor=Actor.of(alice)
    )
    text = html(client_of(alice).get(f"/experiments/{draft.pk}/"))
    assert "The experiment has not started." in text and "Start the experiment" in text
    assert main_forms(text) == [] and "2.0 pts" in text  # the effect worth detecting, in points


def test_the_daily_table_downloads_as_csv(running, carol):
    response = client_of(carol).get(f"/experiments/{running.pk}/tables/daily.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert rows[0][:3] == ["Prediction day", "v1 labelled", "v1 accuracy"] and rows[1][0] == "2026-11-20"
    assert client_of(carol).get(f"/experiments/{running.pk}/tables/nope.csv").status_code == 404
    assert client_of(carol).get("/experiments/999999/").status_code == 404


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_viewers_and_frontline_users_see_no_form_and_a_forged_post_is_refused(stopped, who, request):
    user = request.getfixturevalue(who)
    client = client_of(user)
    assert main_forms(html(client.get(f"/experiments/{stopped.pk}/"))) == []

    for action, data in (
        ("decision", {"decision": "promote", "reason": "forged"}),
        ("stop", {"reason": "forged"}),
    ):
        response = client.post(f"/experiments/{stopped.pk}/{action}/", data)
        assert response.status_code == 403 and "needs <strong>analyst</strong>" in response.content.decode()
    stopped.refresh_from_db()
    assert stopped.status == "stopped" and not stopped.decisions.exists()


def test_an_analyst_stops_the_experiment_and_then_promotes_through_governance(
    running, credit_v1, credit_v2, alice
):
    analyst = client_of(alice)
    page = html(analyst.get(f"/experiments/{running.pk}/"))
    assert main_forms(page) == [f"/experiments/{running.pk}/stop/"]

    response = analyst.post(f"/experiments/{running.pk}/stop/", {"reason": "Freeze"}, follow=True)
    text = html(response)
    assert "Experiment stopped" in text and main_forms(text) == [f"/experiments/{running.pk}/decision/"]
    assert 'for="id_reason"' in text and "csrfmiddlewaretoken" in text

    response = analyst.post(
        f"/experiments/{running.pk}/decision/", {"decision": "promote", "reason": "Good enough"}, follow=True
    )
    text = html(response)
    assert "Decision recorded: promote the challenger." in text and "Good enough" in text
    assert main_forms(text) == []  # concluded: nothing left to decide
    credit_v1.refresh_from_db(), credit_v2.refresh_from_db()
    assert (credit_v2.stage, credit_v1.stage) == (Stage.PRODUCTION, Stage.ARCHIVED)
    promoted = AuditEntry.objects.get(action="version.promote")
    assert promoted.user == alice and promoted.reason == f"experiment {running.pk}: Good enough"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reason": "no decision"}, "decision"),
        ({"decision": "adopt", "reason": "x"}, "decision"),
        ({"decision": "revert", "reason": "   "}, "reason"),
        ({"decision": "revert", "reason": "x" * 2001}, "reason"),
        ({"decision": "extend", "reason": "x", "extend_days": "soon"}, "extend days"),
        ({"decision": "extend", "reason": "x", "extend_days": "900"}, "extend days"),
        ({"decision": "promote", "reason": "x", "version": "v9"}, "version"),
    ],
)
def test_bad_input_is_a_clear_400_that_keeps_what_was_typed(stopped, alice, data, field):
    response = client_of(alice).post(f"/experiments/{stopped.pk}/decision/", data)
    text = html(response, 400)
    assert 'role="alert"' in text and field in text.lower()
    stopped.refresh_from_db()
    assert stopped.status == "stopped" and not stopped.decisions.exists()


def test_keeping_the_champion_is_recorded_and_shown(stopped, credit_v2, dave):
    client = client_of(dave)  # an admin may decide too
    response = client.post(
        f"/experiments/{stopped.pk}/decision/", {"decision": "revert", "reason": "Not worth it"}, follow=True
    )
    text = html(response)
    assert "Decision recorded: revert to the control." in text and "Not worth it" in text
    credit_v2.refresh_from_db()
    assert credit_v2.stage == Stage.SHADOW
    csv_text = client.get(f"/experiments/{stopped.pk}/tables/decisions.csv").content.decode()
    assert "Revert to the control" in csv_text and "dave" in csv_text
