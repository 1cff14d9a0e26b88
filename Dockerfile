FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitoring_site monitoring_site
COPY drift drift
COPY governance governance
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs settings but no database; the key is a build-time throwaway.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v0
RUN useradd --system --home /app driftwatch && chown -R driftwatch /app
USER driftwatch
EXPOSE 8000
CMD ["gunicorn", "monitoring_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
