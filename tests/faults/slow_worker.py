"""A Celery worker whose analyses pause after claiming their run, so a test can kill it mid-analysis.

    python -m tests.faults.slow_worker worker --pool=prefork ...   # as `celery -A monitoring_site ...`

`FAULT_ANALYSIS_DELAY` (seconds, default 30) is the pause. Only the fault tests start it.
"""

import os
import sys
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring_site.settings")
    import django

    django.setup()
    from celery.bin.celery import main as celery_main

    from drift.services import analyses

    delay = float(os.environ.get("FAULT_ANALYSIS_DELAY", "30"))
    real = analyses._execute

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(delay)
        return real(*args, **kwargs)

    analyses._execute = slow  # pool children fork from this process and inherit the patch
    sys.argv = ["celery", "-A", "monitoring_site", *sys.argv[1:]]
    sys.exit(celery_main())


if __name__ == "__main__":
    main()
