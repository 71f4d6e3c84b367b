# Reviewflow service image. Production points REVIEWFLOW_DATABASE_URL at PostgreSQL.

# The inbox's front end: GOV.UK Frontend compiled with the Board's settings (see the Makefile).
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
COPY app/web/assets ./app/web/assets
RUN mkdir -p govuk \
    && node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
       --load-path=node_modules app/web/assets/reviewflow.scss govuk/reviewflow.css \
    && cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js govuk/

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REVIEWFLOW_DATABASE_URL=sqlite:////data/reviewflow.db \
    REVIEWFLOW_PROCESSES_DIR=/srv/reviewflow/processes

WORKDIR /srv/reviewflow
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY --from=assets /build/govuk ./app/web/static/govuk
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
