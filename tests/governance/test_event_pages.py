"""The drift event and incident pages: lists with filters, pages and CSV, an event's and an incident's
page, and the actions an analyst takes there, each through the services and audited. Viewers read and
never act; a forged form is a 403."""

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from drift.models import MonitoredModel
from drift.services.registry import model_create
from governance.models import (
    AuditEntry,
    DriftEvent,
    EscalationStep,
    Incident,
    NotificationChannel,
    Postmortem,
    ServingState,
)

pytestmark = pytest.mark.django_db


def make_event(model: MonitoredModel, *, hours_ago: float = 1, **fields: Any) -> DriftEvent:
    at = timezone.now() - timedelta(hours=hours_ago)
    values = {
        "signal": "data_drift.share_drifted",
        "severity": "critical",
        "title": "Share of changed inputs above 30%",
        "latest_value": 0.5,
        "threshold": 0.3,
        "windows": 2,
        **fields,
    }
    return DriftEvent.objects.create(model=model, detected_at=at, last_seen_at=at, **values)


def make_incident(model: MonitoredModel, *events: DriftEvent, **fields: Any) -> Incident:
    values = {"title": "Partner channel shifts the applicant mix", "severity": "SEV2", **fields}
    incident = Incident.objects.create(model=model, opened_by="dave", opened_at=timezone.now(), **values)
    incident.events.add(*events)
    return incident


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:300])
    return response.content.decode()


def main(page: str) -> str:
    """The page's <main>: the header's sign-out form is not an action on the page."""
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def csv_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def other_model(db: Any) -> MonitoredModel:
    return model_create(slug="churn", name="Churn", task="binary_classification", owner="crm-team")


@pytest.fixture
def event(credit_model: MonitoredModel) -> DriftEvent:
    return make_event(credit_model)


# --- access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/events/", "/events/{e}/", "/incidents/", "/incidents/{i}/"])
def test_signed_out_visitors_are_sent_to_the_login_page(event: DriftEvent, path: str) -> None:
    url = path.format(e=event.pk, i=make_incident(event.model, event).pk)
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"] == f"/login/?next={url}"
    forged = Client().post(f"/events/{event.pk}/acknowledge/")
    assert forged.status_code == 302 and forged["Location"].startswith("/login/")


def test_every_role_has_events_and_incidents_in_the_navigation(carol: User) -> None:
    nav = html(signed_in(carol).get("/")).split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/events/"' in nav and 'href="/incidents/"' in nav


def test_a_viewer_reads_an_event_but_sees_no_forms_and_a_forged_post_is_403(
    carol: User, event: DriftEvent
) -> None:
    client = signed_in(carol)
    page = main(html(client.get(f"/events/{event.pk}/")))
    assert event.title in page and 'method="post"' not in page
    for action, data in [
        ("acknowledge/", {}),
        ("transition/", {"to": "acknowledged"}),
        ("incident/", {"title": "x", "severity": "SEV3"}),
    ]:
        assert client.post(f"/events/{event.pk}/{action}", data).status_code == 403, action
    refused = client.post(f"/models/{event.model.slug}/serving-mode/", {"mode": "normal", "reason": "x"})
    assert refused.status_code == 403
    event.refresh_from_db()
    assert event.status == "detected" and not Incident.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_frontline_user_adds_notes_to_an_incident_but_cannot_move_it(bob: User, event: DriftEvent) -> None:
    incident = make_incident(event.model, event)
    client = signed_in(bob)
    page = main(html(client.get(f"/incidents/{incident.pk}/")))
    assert f'action="/incidents/{incident.pk}/notes/"' in page
    assert "transition/" not in page and "serving-mode" not in page
    assert (
        client.post(f"/incidents/{incident.pk}/notes/", {"text": "Partner says it is a promo"}).status_code
        == 302
    )
    assert client.post(f"/incidents/{incident.pk}/transition/", {"to": "active"}).status_code == 403
    assert incident.timeline.filter(kind="note", text="Partner says it is a promo").exists()


# --- the event list --------------------------------------------------------------------------------


def test_the_event_list_shows_events_newest_first_with_their_model(
    carol: User, credit_model: MonitoredModel
) -> None:
    make_event(credit_model, hours_ago=5, title="Older event")
    make_event(credit_model, hours_ago=1, title="Newer event", severity="warning")
    page = html(signed_in(carol).get("/events/"))
    assert page.index("Newer event") < page.index("Older event")
    assert 'href="/models/credit-risk/"' in page and "2 events" in page
    assert "Download CSV" in page


def test_the_event_list_filters_by_model_status_severity_and_openness(
    carol: User, credit_model: MonitoredModel, other_model: MonitoredModel
) -> None:
    make_event(credit_model, title="Credit critical")
    make_event(credit_model, title="Credit warning", severity="warning", signal="operations.error_rate")
    make_event(other_model, title="Churn resolved", status="resolved")
    client = signed_in(carol)

    page = html(client.get("/events/?model=churn"))
    assert "Churn resolved" in page and "Credit critical" not in page
    page = html(client.get("/events/?severity=warning"))
    assert "Credit warning" in page and "Credit critical" not in page
    assert '<option value="warning" selected>' in page  # the form keeps the chosen filter
    assert '<option value="churn" selected>' in html(client.get("/events/?model=churn"))
    page = html(client.get("/events/?open=1"))
    assert "Churn resolved" not in page and "Credit critical" in page
    page = html(client.get("/events/?status=resolved&model=credit-risk"))
    assert "No events match these filters" in page and "show every event" in page


def test_an_unknown_filter_value_answers_400_naming_it(carol: User, event: DriftEvent) -> None:
    page = html(signed_in(carol).get("/events/?status=exploded"), 400)
    assert "&#x27;status&#x27; must be one of" in page and 'role="alert"' in page
    page = html(signed_in(carol).get("/incidents/?model=nope"), 400)
    assert "No model with slug" in page
    assert signed_in(carol).get("/events/?severity=loud&format=csv").status_code == 400


def test_the_events_csv_holds_every_matching_event_not_just_one_page(
    carol: User, credit_model: MonitoredModel, other_model: MonitoredModel
) -> None:
    for i in range(30):
        make_event(credit_model, hours_ago=i + 1, title=f"Event {i}", status="resolved")
    make_event(other_model, title='=HYPERLINK("http://evil")')
    rows = csv_of(signed_in(carol).get("/events/?model=credit-risk&format=csv"))
    assert len(rows) == 30 and {r["model"] for r in rows} == {"credit-risk"}
    assert rows[0]["title"] == "Event 0" and rows[0]["status"] == "resolved"
    churn = csv_of(signed_in(carol).get("/events/?model=churn&format=csv"))
    assert churn[0]["title"].startswith("'=")  # a spreadsheet shows it, never runs it


def test_the_event_list_pages_through_many_events_keeping_the_filters(
    carol: User, credit_model: MonitoredModel
) -> None:
    for i in range(30):
        make_event(credit_model, hours_ago=i + 1, title=f"Event number {i:02d}", status="resolved")
    client = signed_in(carol)
    first = html(client.get("/events/?status=resolved"))
    assert first.count("Event number") == 25 and "Page 1 of 2" in first
    assert "status=resolved&amp;page=2" in first
    second = html(client.get("/events/?status=resolved&page=2"))
    assert second.count("Event number") == 5 and "Event number 29" in second
    assert "Event number 29" in html(client.get("/events/?status=resolved&page=999"))  # nearest page


def test_with_no_events_the_list_says_what_to_do_next(carol: User, alice: User) -> None:
    assert "No drift events yet" in html(signed_in(carol).get("/events/"))
    assert "/policies/" in html(signed_in(alice).get("/events/"))
    assert "No incidents yet" in html(signed_in(carol).get("/incidents/"))


# --- an event's page -------------------------------------------------------------------------------


def test_the_event_page_explains_the_event_and_shows_its_incident_history_and_serving_mode(
    carol: User, event: DriftEvent
) -> None:
    from governance.services.events import drift_event_acknowledge

    incident = make_incident(event.model, event)
    ServingState.objects.create(
        model=event.model, mode="human_review", reason="Inputs changed", since=event.detected_at
    )
    drift_event_acknowledge(event=event, by=User.objects.create_user("erin"), note="looking")
    page = html(signed_in(carol).get(f"/events/{event.pk}/"))
    assert event.title in page and "critical" in page and "data_drift.share_drifted" in page
    assert 'href="/models/credit-risk/"' in page
    assert "Half of the inputs (50%) changed against the reference data" in page
    assert f'href="/incidents/{incident.pk}/"' in page
    assert "Status changed</span> (detected → acknowledged) by erin: looking" in page
    assert "human review" in page and "Inputs changed" in page


def test_the_event_facts_show_a_share_as_a_percentage_like_the_sentence_above(
    carol: User, credit_model: MonitoredModel
) -> None:
    shift = make_event(credit_model, latest_value=0.6429, threshold=0.2)

    page = html(signed_in(carol).get(f"/events/{shift.pk}/"))

    assert "<dt>Latest value</dt><dd>64%</dd>" in page and "<dt>Threshold</dt><dd>20%</dd>" in page


def test_the_event_history_downloads_as_csv(carol: User, alice: User, event: DriftEvent) -> None:
    signed_in(alice).post(f"/events/{event.pk}/acknowledge/", {"note": "mine"})
    rows = csv_of(signed_in(carol).get(f"/events/{event.pk}/?format=csv"))
    assert [(r["actor"], r["action"], r["reason"]) for r in rows] == [
        ("alice", "drift_event.transition", "mine")
    ]


def test_an_unknown_event_is_a_404(carol: User) -> None:
    assert signed_in(carol).get("/events/999999/").status_code == 404
    assert signed_in(carol).get("/incidents/999999/").status_code == 404


def test_an_analyst_acknowledges_an_event_and_the_change_is_audited(alice: User, event: DriftEvent) -> None:
    client = signed_in(alice)
    page = main(html(client.get(f"/events/{event.pk}/")))
    assert f'action="/events/{event.pk}/acknowledge/"' in page and "csrfmiddlewaretoken" in page
    response = client.post(f"/events/{event.pk}/acknowledge/", {"note": "on it"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/events/{event.pk}/"
    assert f"Event #{event.pk} acknowledged." in html(response)
    event.refresh_from_db()
    assert event.status == "acknowledged" and event.acknowledged_by == alice
    entry = AuditEntry.objects.get(action="drift_event.transition", object_id=str(event.pk))
    assert (entry.user, entry.reason, entry.before["status"], entry.after["status"]) == (
        alice,
        "on it",
        "detected",
        "acknowledged",
    )


def test_an_analyst_moves_an_event_on_with_its_cause_actions_and_results(
    alice: User, event: DriftEvent
) -> None:
    client = signed_in(alice)
    client.post(f"/events/{event.pk}/acknowledge/")
    page = main(html(client.get(f"/events/{event.pk}/")))
    assert 'value="investigating"' in page and 'value="resolved"' not in page  # only allowed moves
    response = client.post(
        f"/events/{event.pk}/transition/",
        {
            "to": "investigating",
            "note": "digging",
            "suspected_cause": "Partner channel launched",
            "actions_taken": "Asked the partner team",
            "results": "",
        },
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == "investigating" and event.suspected_cause == "Partner channel launched"
    assert event.actions_taken == "Asked the partner team"
    entry = AuditEntry.objects.filter(action="drift_event.transition").latest("id")
    assert entry.after["suspected_cause"] == "Partner channel launched" and entry.reason == "digging"


def test_a_move_the_lifecycle_forbids_is_refused_with_a_clear_message(alice: User, event: DriftEvent) -> None:
    client = signed_in(alice)
    page = html(client.post(f"/events/{event.pk}/transition/", {"to": "resolved", "note": "done?"}), 400)
    assert "A detected event cannot move to &#x27;resolved&#x27; (allowed: acknowledged, false_alarm)" in page
    assert 'role="alert"' in page and ">done?</textarea>" in page  # the form keeps what was typed
    page = html(client.post(f"/events/{event.pk}/transition/", {"note": "no target"}), 400)
    assert "to: required" in page
    event.refresh_from_db()
    assert event.status == "detected" and not AuditEntry.objects.exists()


def test_a_closed_event_offers_no_actions(alice: User, credit_model: MonitoredModel) -> None:
    closed = make_event(credit_model, status="false_alarm")
    page = main(html(signed_in(alice).get(f"/events/{closed.pk}/")))
    assert "acknowledge/" not in page and "transition/" not in page and "/incident/" not in page
    assert "judged it a false alarm" in page
    again = signed_in(alice).post(f"/events/{closed.pk}/acknowledge/")
    assert again.status_code == 400 and "none: the event is false_alarm" in again.content.decode()


def test_an_analyst_opens_an_incident_from_an_event(alice: User, event: DriftEvent) -> None:
    client = signed_in(alice)
    assert f'action="/events/{event.pk}/incident/"' in html(client.get(f"/events/{event.pk}/"))
    response = client.post(
        f"/events/{event.pk}/incident/",
        {"title": "Applicant mix shifted", "severity": "SEV2", "summary": "Partner launch"},
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/"
    assert list(incident.events.all()) == [event] and incident.opened_by == "alice"
    assert AuditEntry.objects.filter(action="incident.open", user=alice).exists()
    refused = html(client.post(f"/events/{event.pk}/incident/", {"title": "x", "severity": "SEV9"}), 400)
    assert "Unknown incident severity" in refused and Incident.objects.count() == 1
    # With an open incident linked, the page links it instead of offering another.
    assert "/incident/" not in main(html(client.get(f"/events/{event.pk}/")))


def test_an_analyst_changes_the_serving_mode_from_the_event_page_only_with_a_reason(
    alice: User, event: DriftEvent
) -> None:
    client = signed_in(alice)
    url = f"/models/{event.model.slug}/serving-mode/"
    back = f"/events/{event.pk}/"
    assert f'action="{url}"' in html(client.get(back))

    response = client.post(url, {"mode": "fallback", "reason": "  ", "next": back}, follow=True)
    assert "needs a written reason" in html(response) and response.redirect_chain[-1][0] == back
    assert not ServingState.objects.filter(mode="fallback").exists()

    response = client.post(
        url, {"mode": "fallback", "reason": "Scores unreliable", "next": back}, follow=True
    )
    assert "now serves in fallback mode" in html(response)
    entry = AuditEntry.objects.get(action="serving_mode.change")
    assert entry.user == alice and entry.reason == "Scores unreliable" and entry.after["mode"] == "fallback"
    elsewhere = client.post(url, {"mode": "normal", "reason": "fixed", "next": "https://evil.example/"})
    assert elsewhere["Location"] == "/models/credit-risk/"  # never back to another site


# --- incidents -------------------------------------------------------------------------------------


def test_the_incident_list_filters_pages_and_downloads(
    carol: User, credit_model: MonitoredModel, other_model: MonitoredModel
) -> None:
    event = make_event(credit_model)
    make_incident(credit_model, event, title="Credit incident")
    make_incident(other_model, title="Churn incident", severity="SEV4", status="resolved")
    client = signed_in(carol)
    page = html(client.get("/incidents/"))
    assert "Credit incident" in page and "Churn incident" in page and "2 incidents" in page
    page = html(client.get("/incidents/?severity=SEV4"))
    assert "Churn incident" in page and "Credit incident" not in page
    assert "No incidents match" in html(client.get("/incidents/?status=monitoring"))
    rows = csv_of(client.get("/incidents/?model=credit-risk&format=csv"))
    assert [(r["title"], r["events"]) for r in rows] == [("Credit incident", str(event.pk))]
    for i in range(26):
        make_incident(credit_model, title=f"Bulk {i}")
    assert "Page 1 of 2" in html(client.get("/incidents/?model=credit-risk"))


def test_the_incident_page_shows_timeline_events_escalation_and_postmortem(
    carol: User, alice: User, event: DriftEvent
) -> None:
    from governance.services.audit import Actor
    from governance.services.incidents import incident_open

    incident = incident_open(
        model=event.model, title="Mix shift", severity="SEV2", actor=Actor.of(alice), events=[event]
    )
    channel = NotificationChannel.objects.create(
        model=event.model, name="on-call", kind="email", target="a@b.c"
    )
    EscalationStep.objects.create(model=event.model, level=1, channel=channel, after_minutes=15)
    pm = Postmortem.objects.create(
        incident=incident, title="PM", created_at=timezone.now(), updated_at=timezone.now()
    )
    page = html(signed_in(carol).get(f"/incidents/{incident.pk}/"))
    assert "Mix shift" in page and "SEV2" in page and "Opened by alice for drift event" in page
    assert f'href="/events/{event.pk}/"' in page
    assert "After 15 min unacknowledged: on-call" in page
    assert re.search(rf'href="/postmortems/{pm.pk}/"', page)
    assert "Opened</span> by alice" in page  # the audit trail
    assert 'method="post"' not in main(page)
    timeline = csv_of(signed_in(carol).get(f"/incidents/{incident.pk}/?format=csv"))
    assert timeline[0]["kind"] == "opened"
    audit = csv_of(signed_in(carol).get(f"/incidents/{incident.pk}/?format=csv&table=audit"))
    assert audit[0]["action"] == "incident.open"


def test_an_analyst_moves_an_incident_on_and_only_an_admin_closes_it(
    alice: User, dave: User, event: DriftEvent
) -> None:
    incident = make_incident(event.model, event)
    analyst = signed_in(alice)
    page = main(html(analyst.get(f"/incidents/{incident.pk}/")))
    assert 'value="active"' in page and 'value="resolved"' not in page and "Only an admin may resolve" in page
    assert (
        analyst.post(f"/incidents/{incident.pk}/transition/", {"to": "active", "note": "go"}).status_code
        == 302
    )
    incident.refresh_from_db()
    assert incident.status == "active"
    assert AuditEntry.objects.filter(action="incident.transition", user=alice, reason="go").exists()

    refused = html(analyst.post(f"/incidents/{incident.pk}/transition/", {"to": "resolved"}), 403)
    assert "Only an admin may close an incident." in refused
    bad = html(analyst.post(f"/incidents/{incident.pk}/transition/", {"to": "triage"}), 400)
    assert "cannot move to &#x27;triage&#x27;" in bad

    admin = signed_in(dave)
    assert 'value="resolved"' in html(admin.get(f"/incidents/{incident.pk}/"))
    assert admin.post(f"/incidents/{incident.pk}/transition/", {"to": "resolved"}).status_code == 302
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_at is not None


def test_the_model_page_links_to_its_events_and_incidents(carol: User, event: DriftEvent) -> None:
    page = html(signed_in(carol).get("/models/credit-risk/"))
    assert 'href="/events/?model=credit-risk"' in page and 'href="/incidents/?model=credit-risk"' in page
