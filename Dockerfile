# Reviewflow service image. Production points REVIEWFLOW_DATABASE_URL at PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REVIEWFLOW_DATABASE_URL=sqlite:////data/reviewflow.db \
    REVIEWFLOW_PROCESSES_DIR=/srv/reviewflow/processes

WORKDIR /srv/reviewflow
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY processes ./processes
RUN pip install --no-cache-dir -e . \
    && useradd --system --home /srv/reviewflow reviewflow \
    && mkdir -p /data && chown reviewflow /data

USER reviewflow
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["sh", "-c", "reviewflow db upgrade && reviewflow deploy && reviewflow serve --host 0.0.0.0 --port 8000"]
