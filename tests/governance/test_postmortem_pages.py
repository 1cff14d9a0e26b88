"""Postmortem pages: the list and one postmortem, read by every role; written by analysts through the same
services as the API (admins publish); refusals shown on the page, never a 500."""

import csv
import io
from datetime import date

import pytest
from django.test import Client

from governance.models import ActionItem, AuditEntry, Postmortem
from governance.services.audit import Actor
from governance.services.incidents import incident_open, incident_transition
from governance.services.postmortems import action_item_add, postmortem_create

pytestmark = pytest.mark.usefixtures("clock")
LIST = "/postmortems/"
HOSTILE = (
    "Income moved.\n\n<script>alert('pm')</script> <img src=x onerror=alert(1)> "
    "[click](javascript:alert(2)) **bold**"
)


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def resolved_incident(model, dave, title="Income drift"):
    incident = incident_open(model=model, title=title, severity="SEV2", actor=Actor.of(dave))
    return incident_transition(incident=incident, to="resolved", by=dave, note="retrained")


@pytest.fixture
def pm(credit_model, alice, bob, dave):
    found = postmortem_create(incident=resolved_incident(credit_model, dave), by=alice)
    action_item_add(postmortem=found, title="Alert on the CRM export", by=alice, owner=bob.pk)
    return found


def url(pm) -> str:
    return f"/postmortems/{pm.pk}/"


def post(client, pm, **data):
    return client.post(url(pm), data)


def test_everyone_reads_the_postmortem_with_its_facts_timeline_and_action_items(pm, carol):
    response = as_user(carol).get(url(pm))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Postmortem: Income drift" in html and "Facts from the record" in html
    assert "Time to detect" in html and "retrained" in html  # the incident's timeline note
    assert "Alert on the CRM export" in html and "bob" in html
    assert "Not written yet: summary, impact, trigger, causes" in html  # empty sections say so


def test_an_analyst_edits_the_write_up_and_the_change_is_audited(pm, alice):
    client = as_user(alice)
    response = post(client, pm, action="edit", title="Income drift, November", summary="Income moved.")

    assert response.status_code == 302 and response["Location"] == url(pm)
    pm.refresh_from_db()
    assert pm.title == "Income drift, November" and pm.summary == "Income moved."
    entry = AuditEntry.objects.get(action="postmortem.update")
    assert entry.actor == "alice" and entry.after == {"title": pm.title, "summary": "Income moved."}
    page = client.get(url(pm)).content.decode()
    assert "Postmortem saved." in page and "<p>Income moved.</p>" in page


def test_submitting_then_an_admin_publishing_makes_it_final(pm, alice, dave):
    post(
        as_user(alice),
        pm,
        action="edit",
        summary="s",
        root_cause="r",
        trigger="t",
        resolution="fixed",
        title=pm.title,
    )
    assert post(as_user(alice), pm, action="transition", to="in_review").status_code == 302
    analyst_page = as_user(alice).get(url(pm)).content.decode()
    assert 'value="published"' not in analyst_page and "An admin publishes" in analyst_page

    published = post(as_user(dave), pm, action="transition", to="published", note="reviewed")

    assert published.status_code == 302
    pm.refresh_from_db()
    assert pm.status == "published" and pm.published_by == dave
    assert AuditEntry.objects.filter(action="postmortem.transition", actor="dave", reason="reviewed").exists()
    page = as_user(alice).get(url(pm)).content.decode()
    assert "published and final" in page and 'value="edit"' not in page and 'value="refresh"' not in page
    assert 'value="item-add"' in page  # action items carry on


def test_a_refused_change_is_shown_on_the_page_not_a_500(pm, alice):
    client = as_user(alice)
    # The service refuses a review without a summary and a root cause.
    response = post(client, pm, action="transition", to="in_review")

    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "A review needs summary, root_cause written first." in html
    # An analyst forging a publish gets the service's 403 as a message.
    forged = post(client, pm, action="transition", to="published")
    assert forged.status_code == 400 and "cannot move to" in forged.content.decode()
    pm.refresh_from_db()
    assert pm.status == "draft"


def test_an_analyst_cannot_publish_even_from_review(pm, alice):
    post(as_user(alice), pm, action="edit", summary="s", root_cause="r", title=pm.title)
    post(as_user(alice), pm, action="transition", to="in_review")

    response = post(as_user(alice), pm, action="transition", to="published")

    assert response.status_code == 403 and "Only an admin may publish" in response.content.decode()
    pm.refresh_from_db()
    assert pm.status == "in_review"


def test_markdown_in_the_write_up_renders_inert(pm, alice, carol):
    post(as_user(alice), pm, action="edit", summary=HOSTILE, title=pm.title)

    html = as_user(carol).get(url(pm)).content.decode()

    assert "&lt;script&gt;alert(&#x27;pm&#x27;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<img" not in html
    assert 'href="javascript' not in html and "<strong>bold</strong>" in html


def test_action_items_are_added_and_moved_on_with_audit(pm, alice, bob):
    client = as_user(alice)
    added = post(
        client, pm, action="item-add", title="Backfill labels", owner=str(bob.pk), due_date="2026-12-01"
    )

    assert added.status_code == 302
    item = ActionItem.objects.get(title="Backfill labels")
    assert item.owner == bob and str(item.due_date) == "2026-12-01"
    moved = post(client, pm, action="item-status", item=str(item.pk), status="done")
    assert moved.status_code == 302
    item.refresh_from_db()
    assert item.status == "done" and item.done_at is not None
    assert AuditEntry.objects.filter(action="action_item.update", actor="alice").exists()


def test_an_action_item_with_a_due_date_shows_the_date_as_written(pm, alice, bob, carol):
    action_item_add(
        postmortem=pm, title="Backfill labels", by=alice, owner=bob.pk, due_date=date(2026, 12, 1)
    )

    response = as_user(carol).get(url(pm))

    # A calendar date has no timezone: no `datetime` attribute for the script to shift a day back.
    assert response.status_code == 200
    assert "<time>2026-12-01</time>" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"action": "item-add", "title": "x", "due_date": "tomorrow"}, "due date: a date like 2026-12-01"),
        ({"action": "item-add", "title": "x", "owner": "99999"}, "No active user with id 99999"),
        ({"action": "item-add", "title": "  "}, "title: required"),
        ({"action": "item-status", "item": "abc", "status": "done"}, "item: a whole number"),
        ({"action": "item-status", "item": "99999", "status": "done"}, "No action item with id 99999"),
        ({"action": "edit", "title": ""}, "title: required"),
        ({"action": "explode"}, "Unknown action"),
    ],
)
def test_bad_input_gets_a_clear_message(pm, alice, data, says):
    response = post(as_user(alice), pm, **data)

    assert response.status_code == 400
    assert says in response.content.decode()


def test_a_refused_edit_keeps_what_was_typed(pm, alice):
    response = post(as_user(alice), pm, action="edit", title="", summary="my long careful summary")

    assert response.status_code == 400 and "my long careful summary" in response.content.decode()
    pm.refresh_from_db()
    assert pm.summary == ""


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_viewers_and_frontline_see_no_forms_and_a_forged_post_is_403(pm, request, who):
    client = as_user(request.getfixturevalue(who))

    html = client.get(url(pm)).content.decode()
    assert 'name="action"' not in html and "Start a postmortem" not in client.get(LIST).content.decode()

    for data in ({"action": "edit", "summary": "forged"}, {"action": "refresh"}, {"action": "item-add"}):
        assert post(client, pm, **data).status_code == 403
    assert client.post(LIST, {"incident": "1"}).status_code == 403
    pm.refresh_from_db()
    assert pm.summary == "" and not AuditEntry.objects.filter(action="postmortem.update").exists()


def test_signed_out_visitors_are_sent_to_the_login_page(pm):
    for path in (LIST, url(pm)):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={path}"
    assert Client().post(url(pm), {"action": "edit", "summary": "x"}).status_code == 302
    pm.refresh_from_db()
    assert pm.summary == ""


def test_an_unknown_postmortem_is_404(alice):
    assert as_user(alice).get("/postmortems/999/").status_code == 404


def test_the_list_filters_pages_and_downloads_csv(credit_model, alice, carol, dave):
    for i in range(27):
        postmortem_create(incident=resolved_incident(credit_model, dave, f"Incident {i}"), by=alice)
    client = as_user(carol)

    first = client.get(LIST).content.decode()
    assert "27 postmortems" in first and "Page 1 of 2" in first and "page=2" in first
    assert "Postmortem: Incident 0" in client.get(f"{LIST}?page=2").content.decode()
    assert client.get(f"{LIST}?page=nonsense").status_code == 200
    assert "No postmortem matches" in client.get(f"{LIST}?status=published").content.decode()
    bad = client.get(f"{LIST}?status=bogus")
    assert bad.status_code == 400 and "&#x27;status&#x27; must be one of" in bad.content.decode()
    download = client.get(f"{LIST}?model=credit-risk&format=csv")
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0][:3] == ["id", "title", "model"] and len(rows) == 28


def test_the_empty_list_says_what_to_do_next(db, alice, carol):
    assert "An analyst starts one for an incident" in as_user(carol).get(LIST).content.decode()
    assert "Every incident already has a postmortem" in as_user(alice).get(LIST).content.decode()


def test_an_analyst_starts_a_postmortem_from_the_list(credit_model, alice, dave):
    incident = resolved_incident(credit_model, dave)
    client = as_user(alice)
    assert f'value="{incident.pk}"' in client.get(LIST).content.decode()

    response = client.post(LIST, {"incident": str(incident.pk), "title": ""})

    made = Postmortem.objects.get(incident=incident)
    assert response.status_code == 302 and response["Location"] == url(made)
    again = client.post(LIST, {"incident": str(incident.pk)})
    assert again.status_code == 409 and "already has a postmortem" in again.content.decode()
    assert client.post(LIST, {"incident": ""}).status_code == 400


def test_an_analyst_recomputes_the_facts(pm, alice):
    response = post(as_user(alice), pm, action="refresh")

    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="postmortem.refresh", actor="alice").exists()
