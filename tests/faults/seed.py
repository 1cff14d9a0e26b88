"""Seed a fault-test database through the services: `python -m tests.faults.seed` with DATABASE_URL set.

Creates alice (analyst) with a personal token, a model `faulty` with version v1 (three features) and
a 600-row reference, and prints `{"token", "slug", "version"}` as JSON. Runs with no broker (eager).
"""

import json
import os
import random


def record(i: int, rng: random.Random, *, prefix: str, timestamp: str) -> dict:
    """A valid prediction record for the `faulty` model."""
    x = rng.gauss(50, 10)
    return {
        "id": f"{prefix}-{i}",
        "timestamp": timestamp,
        "features": {"x": round(x, 3), "y": round(rng.uniform(0, 1), 4), "colour": rng.choice("rgb")},
        "prediction": int(x > 50),
        "score": round(min(max((x - 20) / 60, 0), 1), 4),
    }


FEATURES = [
    {"name": "x", "type": "numeric"},
    {"name": "y", "type": "numeric", "min": 0, "max": 1},
    {"name": "colour", "type": "categorical", "categories": ["r", "g", "b"]},
]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring_site.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from drift.services.reference import reference_upload
    from drift.services.registry import model_create, version_create

    alice = User.objects.create_user(username="alice", password="alice-pass-123", is_staff=True)
    alice.groups.add(Group.objects.get(name="analyst"))
    model = model_create(
        slug="faulty", name="Faulty", task="binary_classification", owner="tests", positive_label="1"
    )
    version = version_create(model=model, version="v1", features=FEATURES, stage="production")
    rng = random.Random(0)
    rows = []
    for i in range(600):
        r = record(i, rng, prefix="ref", timestamp="")
        rows.append(
            {
                "features": r["features"],
                "prediction": r["prediction"],
                "score": r["score"],
                "label": r["prediction"],
            }
        )
    reference_upload(version=version, rows=rows, source="json", uploaded_by=alice)
    print(json.dumps({"token": Token.objects.create(user=alice).key, "slug": model.slug, "version": "v1"}))


if __name__ == "__main__":
    main()
