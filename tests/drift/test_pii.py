"""Raw values of features marked pii=hash or pii=drop reach neither the database nor the logs."""

import contextlib
import logging
import zlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from drift.models import PredictionLog, ReferenceRow
from drift.services.ingestion import pii_key
from drift.validation import pii_hasher
from tests.conftest import prediction

URL = "/api/v1/models/credit-risk/"
# Distinctive raw values: customer_ref is pii=hash, email is pii=drop in the credit model's schema.
REF = "CUSTREF-ZQX-%d"
MAIL = "zqx.secret.%d@mail.example"
FRAGMENTS = ("CUSTREF-ZQX", "zqx.secret")

pytestmark = pytest.mark.usefixtures("clock")


def with_pii(i: int, **overrides: Any) -> dict[str, Any]:
    record = prediction(i, **overrides)
    record["features"].update(customer_ref=REF % i, email=MAIL % i)
    return record


def readable(value: bytes | memoryview) -> str:
    data = bytes(value)
    with contextlib.suppress(zlib.error):
        data = zlib.decompress(data)
    return data.decode("latin-1")


def every_row_as_text() -> str:
    """Every row of every table, as text: what someone with a database dump would see."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                chunks.append(repr(row))
                # Binary columns, possibly compressed, are searched as text as well.
                chunks.extend(readable(value) for value in row if isinstance(value, bytes | memoryview))
    return "\n".join(chunks)


@pytest.fixture
def sent(api: Any, alice: Any, credit_key: str, caplog: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Predictions and a reference (JSON and CSV) carrying PII, plus refused batches carrying it too.

    Work deferred to after commit (profile rebuilds) runs as well, so what it stores is searched too.
    """
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True) as deferred:
        _send_everything(api, alice, credit_key)
    assert deferred, "the reference uploads should have scheduled profile rebuilds"
    return caplog


def _send_everything(api: Any, alice: Any, credit_key: str) -> None:
    machine, person = api(key=credit_key), api(alice)
    records = [with_pii(i) for i in range(3)]
    assert (
        machine.post(URL + "predictions/", {"version": "v1", "records": records}, format="json").status_code
        == 200
    )
    # Refused: all-or-nothing, then partial, then a PII field of the wrong type, then a bad version.
    bad = with_pii(10, timestamp="not a time")
    assert (
        machine.post(
            URL + "predictions/", {"version": "v1", "records": [with_pii(11), bad]}, format="json"
        ).status_code
        == 400
    )
    assert (
        machine.post(
            URL + "predictions/?partial=true",
            {"version": "v1", "records": [with_pii(12), bad]},
            format="json",
        ).status_code
        == 200
    )
    wrong_type = prediction(13)
    wrong_type["features"]["customer_ref"] = {"raw": REF % 13, "email": MAIL % 13}
    assert (
        machine.post(
            URL + "predictions/", {"version": "v1", "records": [wrong_type]}, format="json"
        ).status_code
        == 400
    )
    assert (
        machine.post(
            URL + "predictions/", {"version": "v9", "records": [with_pii(14)]}, format="json"
        ).status_code
        == 400
    )
    reference = [{"features": with_pii(20 + i)["features"], "prediction": 1} for i in range(3)]
    assert (
        person.post(URL + "versions/v1/reference/", {"records": reference}, format="json").status_code == 201
    )
    bad_reference = [{"features": {**with_pii(30)["features"], "income": "n/a"}, "prediction": 1}]
    assert (
        person.post(URL + "versions/v1/reference/", {"records": bad_reference}, format="json").status_code
        == 400
    )
    csv = "customer_ref,email,income,prediction\n" + "".join(
        f"{REF % i},{MAIL % i},100,0\n" for i in range(40, 42)
    )
    upload = SimpleUploadedFile("ref.csv", csv.encode(), content_type="text/csv")
    assert (
        person.post(URL + "versions/v1/reference/", {"file": upload}, format="multipart").status_code == 201
    )


def test_no_raw_pii_value_is_anywhere_in_the_database(sent):
    dump = every_row_as_text()

    assert "p-0" in dump and "credit-risk" in dump  # the dump does see the stored rows
    for fragment in FRAGMENTS:
        assert fragment not in dump


def test_hashed_features_are_stored_as_their_keyed_hash_and_dropped_ones_not_at_all(sent):
    digest = pii_hasher(pii_key())

    stored = PredictionLog.objects.get(record_id="p-0").features
    reference = ReferenceRow.objects.order_by("id").first().features

    assert stored["customer_ref"] == digest(REF % 0) and "email" not in stored
    assert reference["customer_ref"] == digest(REF % 40) and "email" not in reference


def test_no_raw_pii_value_is_in_the_logs_even_for_refused_batches(sent):
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in sent.get_records("setup"))

    assert "Bad Request" in logged  # the refused batches were logged
    for fragment in FRAGMENTS:
        assert fragment not in logged


def test_the_api_answers_never_echo_raw_pii(api, alice, credit_v1, clock):
    client = api(alice)
    bad = with_pii(0, timestamp="never")
    bad["features"]["email"] = {"deep": MAIL % 0}
    bad["features"]["customer_ref"] = [REF % 0]

    refused = client.post(URL + "predictions/", {"version": "v1", "records": [bad]}, format="json")
    client.post(URL + "predictions/", {"version": "v1", "records": [with_pii(1)]}, format="json")
    listed = client.get(URL + "predictions/")

    assert refused.status_code == 400 and listed.status_code == 200
    for fragment in FRAGMENTS:
        assert fragment.encode() not in refused.content + listed.content
