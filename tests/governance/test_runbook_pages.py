"""Runbook pages: the list and one runbook rendered safely with its versions, read by every role; written
by analysts through the runbook services (each edit a new version, with a reason, audited)."""

import csv
import io

import pytest
from django.test import Client

from governance.models import AuditEntry, Runbook
from governance.services.runbooks import runbook_create

pytestmark = pytest.mark.usefixtures("clock")
LIST = "/runbooks/"
BODY = "# When income drifts\n\n1. Check the CRM export\n2. Run `make retrain`\n"
HOSTILE = (
    "## Steps\n\n<script>alert('rb')</script>\n\n<img src=x onerror=alert(1)>\n\n"
    '[docs](javascript:alert(2)) [ok](https://wiki.example.com/a?b=1&c="x")\n'
)


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def runbook(credit_model, alice):
    return runbook_create(slug="income-drift", title="Income drift", body=BODY, by=alice, model=credit_model)


def url(runbook) -> str:
    return f"/runbooks/{runbook.pk}/"


def edit(client, runbook, **data):
    return client.post(url(runbook), {"action": "edit", "title": "Income drift", **data})


def test_everyone_reads_the_runbook_rendered_with_its_history(runbook, carol):
    response = as_user(carol).get(url(runbook))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>When income drifts</h1>" in html and "<code>make retrain</code>" in html
    assert "version 1 of 1" in html and "Credit risk" in html


def test_an_analyst_edit_makes_a_new_version_and_the_old_one_stays_readable(runbook, alice):
    client = as_user(alice)

    response = edit(client, runbook, body="Call **the owner**.", reason="shorter")

    assert response.status_code == 302 and response["Location"] == url(runbook)
    assert [v.number for v in runbook.versions.order_by("number")] == [1, 2]
    entry = AuditEntry.objects.get(action="runbook.update")
    assert entry.actor == "alice" and entry.reason == "shorter" and entry.after["version"] == 2
    current = client.get(url(runbook)).content.decode()
    assert "Saved as version 2" in current and "<strong>the owner</strong>" in current
    assert 'href="?version=1"' in current and "shorter" in current
    old = client.get(f"{url(runbook)}?version=1").content.decode()
    assert "<h1>When income drifts</h1>" in old and "an earlier one" in old
    assert "from the text of version 1" in old  # editing from here restores it


def test_markdown_with_script_and_handlers_renders_inert(runbook, alice, carol):
    edit(as_user(alice), runbook, body=HOSTILE, reason="hostile")

    html = as_user(carol).get(url(runbook)).content.decode()

    assert "&lt;script&gt;alert(&#x27;rb&#x27;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<img" not in html and "onerror=alert(1)&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://wiki.example.com/a?b=1&amp;c=&quot;x&quot;" rel="nofollow' in html


def test_an_analyst_writes_a_runbook_from_the_list(credit_model, alice):
    client = as_user(alice)

    response = client.post(
        LIST, {"slug": "latency", "title": "Slow answers", "body": "- check p95", "model": "", "reason": ""}
    )

    made = Runbook.objects.get(slug="latency")
    assert response.status_code == 302 and response["Location"] == url(made)
    assert made.model is None and made.versions.get().body == "- check p95"
    assert AuditEntry.objects.filter(action="runbook.create", actor="alice").exists()


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [
        ({"slug": "Bad Slug!", "title": "t", "body": "b"}, 400, "slug: lower-case letters"),
        ({"slug": "ok", "title": "", "body": "b"}, 400, "title: required"),
        ({"slug": "ok", "title": "t", "body": "b", "model": "nope"}, 400, "model: no model &#x27;nope&#x27;"),
        ({"slug": "income-drift", "title": "t", "body": "b"}, 409, "already exists"),
    ],
)
def test_bad_input_on_the_list_form_gets_a_clear_message(runbook, alice, data, status, says):
    response = as_user(alice).post(LIST, data)

    assert response.status_code == status
    html = response.content.decode()
    assert says in html and 'role="alert"' in html
    assert Runbook.objects.count() == 1


def test_an_edit_without_a_reason_is_refused_and_keeps_the_text(runbook, alice):
    response = edit(as_user(alice), runbook, body="my careful new text", reason="")

    assert response.status_code == 400
    html = response.content.decode()
    assert "reason: required" in html and "my careful new text" in html
    assert runbook.versions.count() == 1


def test_a_bad_or_unknown_version_is_answered_clearly(runbook, carol):
    client = as_user(carol)

    bad = client.get(f"{url(runbook)}?version=abc")
    assert bad.status_code == 400 and "version: a whole number" in bad.content.decode()
    assert client.get(f"{url(runbook)}?version=9").status_code == 404
    assert client.get("/runbooks/999/").status_code == 404


def test_retiring_keeps_the_versions_and_stops_edits(runbook, alice):
    client = as_user(alice)

    assert client.post(url(runbook), {"action": "retire", "reason": "merged"}).status_code == 302

    runbook.refresh_from_db()
    assert not runbook.is_active
    assert AuditEntry.objects.filter(action="runbook.retire", reason="merged").exists()
    html = client.get(url(runbook)).content.decode()
    assert "Retired" in html and 'value="edit"' not in html
    refused = edit(client, runbook, body="x", reason="y")
    assert refused.status_code == 409 and "retired" in refused.content.decode()
    assert "No runbooks yet" in client.get(LIST).content.decode()
    assert "income-drift" in client.get(f"{LIST}?retired=1").content.decode()


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_viewers_and_frontline_see_no_forms_and_a_forged_post_is_403(runbook, request, who):
    client = as_user(request.getfixturevalue(who))

    assert 'name="action"' not in client.get(url(runbook)).content.decode()
    assert 'name="action"' not in client.get(LIST).content.decode()
    assert edit(client, runbook, body="forged", reason="x").status_code == 403
    assert client.post(url(runbook), {"action": "retire"}).status_code == 403
    assert client.post(LIST, {"slug": "x", "title": "t", "body": "b"}).status_code == 403
    assert runbook.versions.count() == 1 and Runbook.objects.count() == 1


def test_signed_out_visitors_are_sent_to_the_login_page(runbook):
    for path in (LIST, url(runbook)):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={path}"
    assert edit(Client(), runbook, body="x", reason="y").status_code == 302
    assert runbook.versions.count() == 1


def test_the_list_filters_and_downloads_csv(runbook, credit_model, alice, carol):
    runbook_create(slug="shared", title="=HYPERLINK(1)", body="b", by=alice)
    client = as_user(carol)

    html = client.get(LIST).content.decode()
    assert "2 runbooks" in html and "Income drift" in html
    bad = client.get(f"{LIST}?model=nope")
    assert bad.status_code == 400 and "No model with slug" in bad.content.decode()
    download = client.get(f"{LIST}?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0][:3] == ["id", "slug", "title"]
    assert ["income-drift", "Income drift"] in [r[1:3] for r in rows]
    assert ["shared", "'=HYPERLINK(1)"] in [r[1:3] for r in rows]  # never a live formula


def test_the_empty_list_says_what_to_do_next(db, alice, carol):
    assert "An analyst writes runbooks" in as_user(carol).get(LIST).content.decode()
    assert "Write the first one below" in as_user(alice).get(LIST).content.decode()


def test_the_navigation_offers_postmortems_and_runbooks_to_every_role(db, carol):
    html = as_user(carol).get(LIST).content.decode()

    assert 'href="/postmortems/"' in html and 'href="/runbooks/" aria-current="page"' in html


def test_an_incident_page_links_its_runbook_by_its_current_title(runbook, alice, carol, dave):
    from governance.services.audit import Actor
    from governance.services.incidents import incident_open

    incident = incident_open(
        model=runbook.model, title="Income drift", severity="SEV3", actor=Actor.of(dave), runbook=runbook
    )
    edit(as_user(alice), runbook, title="Income moved", body=BODY, reason="clearer")

    html = as_user(carol).get(f"/incidents/{incident.pk}/").content.decode()

    assert f'<dt>Runbook</dt><dd><a href="/runbooks/{runbook.pk}/">Income moved</a></dd>' in html
