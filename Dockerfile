# thidua-bot, one worker. Not built or tested in the project's CI (see README, Deployment).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    THIDUA_DATA_DIR=/data THIDUA_WEB_LISTEN=0.0.0.0 THIDUA_WEB_PORT=8001
# pg_dump for `thidua backup` on PostgreSQL
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/thidua thidua \
    && mkdir -p /data && chown thidua /data

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY scheduler ./scheduler
COPY storage ./storage
RUN pip install --no-cache-dir .

USER thidua
VOLUME ["/data"]
EXPOSE 8001
HEALTHCHECK --interval=30s --timeout=6s CMD python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/healthz', timeout=5)"
# SIGTERM stops receiving, finishes the messages in hand and exits 0
STOPSIGNAL SIGTERM
CMD ["thidua", "run"]
