import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring_site.settings")
application = get_wsgi_application()

# An ingestion batch allocates some 10^5 short-lived containers (parsed JSON, rows), which reference
# counting frees. With the default threshold (700) the cyclic collector walked them dozens of times per
# batch, and every few batches walked the whole heap: ~15 % of a web worker's CPU (bench/ingest.py).
# Objects loaded so far live as long as the process, so they are frozen out of its scans.
gc.freeze()
gc.set_threshold(50_000, 20, 20)
