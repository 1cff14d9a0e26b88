"""The flag forms and the triage queue as pages: frontline users flag, analysts triage, viewers only read.

Given credit-risk v1 with two predictions and two analysed days (the 18th and 19th of November), on the
governance tests' frozen clock.
"""

import json
import re
from typing import Any

import pytest
from django.test import Client

from drift.models import PredictionLog
from drift.services.ingestion import predictions_ingest
from governance.models import (
    Annotation,
    AuditEntry,
    DriftEvent,
    ImprovementTask,
    RetrainingRequest,
)
from governance.services.annotations import annotation_create
from tests.conftest import prediction
from tests.governance.conftest import results

pytestmark = pytest.mark.usefixtures("clock", "_plain_static_files")

TRIAGE = "/triage/"
FLAG = "/triage/flag/credit-risk/"
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


@pytest.fixture
def _plain_static_files(settings: Any) -> None:
    from tests.drift.pages_support import plain_static_files

    plain_static_files(settings)


@pytest.fixture
def story(credit_v1: Any, make_run: Any) -> Any:
    predictions_ingest(
        model=credit_v1.model,
        version="v1",
        records=[prediction(1, timestamp="2026-11-19T09:00:00Z"), prediction(2)],
    )
    make_run(17, results())  # the 18th
    make_run(18, results(share=0.5))  # the 19th
    return credit_v1.model


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def figure(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script id="fig-{name}" type="application/json">(.*?)</script>', html, re.S)
    assert found, name
    return json.loads(found.group(1))


def flag_range(client: Client, **extra: str) -> Any:
    body = {
        "target": "time_range",
        "start": "2026-11-19T06:00",
        "end": "2026-11-19T12:00",
        "category": "data_problem",
        "note": "Scores jumped for the partner channel",
        **extra,
    }
    return client.post(FLAG, body)


def open_flag(story: Any, by: Any, note: str = "Looks wrong") -> Annotation:
    return annotation_create(model=story, by=by, category="wrong_prediction", note=note, record_id="p-1")


# --- flagging ---------------------------------------------------------------------------------------


def test_a_frontline_user_flags_a_prediction_from_the_prediction_list(story, bob):
    client = client_of(bob)
    listing = client.get("/models/credit-risk/predictions/?start=2026-11-01&end=2026-11-21")
    html = listing.content.decode()
    assert html.count(f'action="{FLAG}"') == 2  # one flag form per prediction
    assert 'name="record_id" value="p-1"' in html

    back = "/models/credit-risk/predictions/?start=2026-11-01"
    answer = client.post(
        FLAG,
        {
            "target": "prediction",
            "record_id": "p-1",
            "category": "wrong_prediction",
            "note": "Loyal customer",
            "next": back,
        },
    )

    assert answer.status_code == 302 and answer["Location"] == back
    flag = Annotation.objects.get()
    assert (flag.target, flag.record_id, flag.created_by, flag.status) == ("prediction", "p-1", bob, "open")
    assert AuditEntry.objects.filter(action="annotation.create", actor="bob").count() == 1
    page = client.get("/models/credit-risk/predictions/p-1/").content.decode()
    assert "Loyal customer" in page and "Flag this prediction" in page


def test_a_frontline_user_flags_a_time_range_and_it_shows_on_the_time_charts(story, bob):
    client = client_of(bob)
    model_page = client.get("/models/credit-risk/?view=technical").content.decode()
    assert 'id="flag-range-form"' in model_page
    # The form starts with the chosen window (the 19th).
    assert 'name="start" value="2026-11-19T00:00"' in model_page

    answer = flag_range(client, next="/models/credit-risk/?view=technical")

    assert answer.status_code == 302
    flag = Annotation.objects.get()
    assert flag.target == "time_range" and flag.start.isoformat() == "2026-11-19T06:00:00+00:00"
    html = client.get("/models/credit-risk/?view=technical").content.decode()
    drawn = 0
    for name in ("performance", "quality", "latency", "volume", "queue"):
        fig = figure(html, name)
        flags = [t for t in fig["data"] if t.get("name") == "Flags"]
        if fig.get("meta", {}).get("empty"):
            assert not flags, name  # an empty chart keeps saying why, with nothing on it
            continue
        drawn += 1
        assert "Scores jumped for the partner channel" in flags[0]["text"][0], name
        bands = [s for s in fig["layout"]["shapes"] if s["type"] == "rect"]
        assert bands and bands[0]["x0"].startswith("2026-11-19T06:00"), name
    assert drawn >= 1
    feature = client.get("/models/credit-risk/features/income/").content.decode()
    assert any(t.get("name") == "Flags" for t in figure(feature, "statistic")["data"])


def test_a_segment_can_be_flagged_from_the_model_page_form(story, bob):
    answer = client_of(bob).post(
        FLAG,
        {"target": "segment", "segment_feature": "region", "segment_value": "north", "category": "edge_case",
         "note": "North applicants all declined", "start": "2026-11-19T00:00", "end": "2026-11-20T00:00"},
    )  # fmt: skip

    assert answer.status_code == 302
    flag = Annotation.objects.get()
    assert (flag.target, flag.segment_feature, flag.segment_value) == ("segment", "region", "north")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"note": "  "}, "note"),
        ({"category": "nonsense"}, "category"),
        ({"start": "yesterday"}, "start"),
        ({"end": ""}, "end"),
        ({"start": "2026-11-19T12:00", "end": "2026-11-19T06:00"}, "end"),
        ({"target": "planet"}, "target"),
        ({"target": "prediction", "record_id": "nope"}, "record_id"),
        ({"target": "segment", "segment_feature": "planet", "segment_value": "mars"}, "segment.feature"),
    ],
)
def test_bad_flags_come_back_with_a_message_naming_the_field(story, bob, change, field):
    answer = flag_range(client_of(bob), **change)

    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'role="alert"' in html and "Not saved" in html
    assert field.replace("_", " ") in html or field in html
    assert 'aria-invalid="true"' in html
    assert not Annotation.objects.exists()


def test_viewers_see_no_flag_form_and_a_forged_flag_is_refused(story, carol):
    client = client_of(carol)
    html = client.get("/models/credit-risk/?view=technical").content.decode()
    assert "flag-range-form" not in html and FLAG not in html
    assert ">Triage<" not in html  # not in the navigation either

    assert flag_range(client).status_code == 403
    assert client.get(TRIAGE).status_code == 403
    assert client.post(TRIAGE, {"annotation": "1", "decision": "dismiss", "reason": "x"}).status_code == 403
    assert not Annotation.objects.exists()


def test_unknown_or_hidden_models_cannot_be_flagged(story, bob):
    assert client_of(bob).post("/triage/flag/nope/", {"note": "x"}).status_code == 404


# --- the queue --------------------------------------------------------------------------------------


def test_an_analyst_accepts_a_flag_into_a_task_linked_to_an_open_event(story, alice, bob):
    flag = open_flag(story, bob)
    event = DriftEvent.objects.create(
        model=story, signal="data_drift.share_drifted", severity="critical", title="Inputs changed",
        detected_at=flag.created_at, last_seen_at=flag.created_at,
    )  # fmt: skip
    client = client_of(alice)
    queue = client.get(TRIAGE).content.decode()
    assert f'value="event:{event.pk}"' in queue and "Looks wrong" in queue

    answer = client.post(
        f"{TRIAGE}?status=open",
        {"annotation": flag.pk, "decision": "accept", "link": f"event:{event.pk}", "title": "Check scoring"},
    )

    assert answer.status_code == 302 and answer["Location"] == f"{TRIAGE}?status=open"
    flag.refresh_from_db()
    task = ImprovementTask.objects.get()
    assert (flag.status, flag.task, flag.triaged_by) == ("accepted", task, alice)
    assert (task.event, task.title) == (event, "Check scoring")
    assert set(AuditEntry.objects.filter(actor="alice").values_list("action", flat=True)) == {
        "annotation.accept",
        "improvement_task.create",
    }
    assert "Looks wrong" not in client.get(TRIAGE).content.decode()  # the queue shows open flags
    assert "Check scoring" in client.get(f"{TRIAGE}?status=accepted").content.decode()


def test_accepting_can_ask_for_retraining_with_the_note_as_its_reason(story, alice, bob):
    flag = open_flag(story, bob, note="Approvals drift for new customers")

    answer = client_of(alice).post(
        TRIAGE, {"annotation": flag.pk, "decision": "accept", "link": "new-retraining"}
    )

    assert answer.status_code == 302
    request = RetrainingRequest.objects.get()
    assert "Approvals drift for new customers" in request.reason
    assert ImprovementTask.objects.get().retraining_request == request


def test_an_analyst_dismisses_with_a_reason_and_the_decision_is_audited(story, alice, bob):
    flag = open_flag(story, bob)
    client = client_of(alice)

    refused = client.post(TRIAGE, {"annotation": flag.pk, "decision": "dismiss", "reason": " "})
    assert refused.status_code == 400 and "reason" in refused.content.decode()
    answer = client.post(TRIAGE, {"annotation": flag.pk, "decision": "dismiss", "reason": "Known promo week"})

    assert answer.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.dismiss_reason) == ("dismissed", "Known promo week")
    entry = AuditEntry.objects.get(action="annotation.dismiss")
    assert (entry.actor, entry.reason) == ("alice", "Known promo week")
    again = client.post(TRIAGE, {"annotation": flag.pk, "decision": "dismiss", "reason": "twice"})
    assert again.status_code == 409 and "already dismissed" in again.content.decode()


@pytest.mark.parametrize(
    "body, status, says",
    [
        ({"decision": "accept"}, 400, "link"),
        ({"decision": "accept", "link": "event:999"}, 400, "link"),
        ({"decision": "accept", "link": "retraining:abc"}, 400, "link"),
        ({"decision": "maybe"}, 400, "decision"),
        ({"decision": "dismiss", "reason": "x", "annotation": "999"}, 400, "No annotation"),
        ({"decision": "dismiss", "reason": "x", "annotation": "x1"}, 400, "annotation"),
    ],
)
def test_bad_triage_input_says_what_is_wrong(story, alice, bob, body, status, says):
    flag = open_flag(story, bob)
    answer = client_of(alice).post(TRIAGE, {"annotation": flag.pk, **body})

    assert answer.status_code == status
    assert says in answer.content.decode()
    flag.refresh_from_db()
    assert flag.status == "open" and not ImprovementTask.objects.exists()


def test_frontline_users_follow_their_own_flags_but_cannot_triage(story, alice, bob):
    from tests.conftest import make_user

    mine = open_flag(story, bob, note="Mine")
    erin = make_user("erin", "frontline")
    open_flag(story, erin, note="Someone else's")
    client = client_of(bob)

    html = client.get(TRIAGE).content.decode()
    assert "Mine" in html and "Someone else" not in html
    assert 'name="decision"' not in html  # read-only
    assert ">Triage<" in html  # in the navigation
    forged = client.post(TRIAGE, {"annotation": mine.pk, "decision": "dismiss", "reason": "nope"})
    assert forged.status_code == 403
    mine.refresh_from_db()
    assert mine.status == "open"


def test_the_queue_filters_pages_and_downloads_as_csv(story, alice, bob):
    for i in range(30):
        open_flag(story, bob, note=f"flag {i}")
    annotation_create(
        model=story,
        by=bob,
        category="data_problem",
        note="=HYPERLINK(1)",
        segment={"feature": "region", "value": "x"},
    )
    client = client_of(alice)

    first = client.get(TRIAGE).content.decode()
    assert "31 flags" in first and "Page 1 of 2" in first
    assert "=HYPERLINK(1)" in first  # newest first
    second = client.get(f"{TRIAGE}?page=2").content.decode()
    assert "flag 0" in second and "=HYPERLINK" not in second
    only = client.get(f"{TRIAGE}?category=data_problem").content.decode()
    assert "1 flag<" in only
    csv = client.get(f"{TRIAGE}?category=data_problem&format=csv")
    body = b"".join(csv.streaming_content).decode()
    assert csv["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK(1)" in body and "flag 3" not in body  # no formula runs in a spreadsheet
    bad = client.get(f"{TRIAGE}?status=maybe")
    assert bad.status_code == 400 and "status" in bad.content.decode()


def test_notes_render_as_inert_text_on_every_page(story, alice, bob):
    flag = open_flag(story, bob, note=HOSTILE)
    annotation_create(
        model=story, by=bob, category="other", note=HOSTILE, start=flag.created_at.replace(day=19, hour=1),
        end=flag.created_at.replace(day=19, hour=5),
    )  # fmt: skip
    escaped = "&lt;script&gt;window.__pwned=1&lt;/script&gt;"
    for client, path in (
        (client_of(alice), TRIAGE),
        (client_of(bob), TRIAGE),
        (client_of(bob), "/models/credit-risk/predictions/p-1/"),
    ):
        html = client.get(path).content.decode()
        assert "<script>window.__pwned" not in html and "<img src=x" not in html, path
        assert escaped in html, path
    chart = client_of(bob).get("/models/credit-risk/features/income/").content.decode()
    hover = next(t for t in figure(chart, "statistic")["data"] if t.get("name") == "Flags")["text"]
    assert all("<script>" not in text and "<img" not in text for text in hover)
    assert any("&lt;/script&gt;&lt;img src=x" in text for text in hover)


def test_drill_predictions_never_show_in_the_prediction_list(story, bob):
    predictions_ingest(model=story, version="v1", records=[prediction(3, id="drill-1")])
    PredictionLog.objects.filter(record_id="drill-1").update(is_drill=True)
    client = client_of(bob)

    html = client.get("/models/credit-risk/predictions/?start=2026-11-01&end=2026-11-21").content.decode()

    assert "p-1" in html and "drill-1" not in html
    assert client.get("/models/credit-risk/predictions/drill-1/").status_code == 404
