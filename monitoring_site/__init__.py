import os

# numpy's BLAS starts one thread per core in every process; with several web and Celery worker
# processes on few cores that oversubscribes the machine and made small fits 10-30x slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from .celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
