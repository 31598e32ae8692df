# Multi-stage build: dependencies are built in one stage, the runtime image holds only what runs.
# PYTHON_IMAGE: any Debian-based image with Python 3.11 and venv (the official slim by default).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY app ./app
COPY webhooks ./webhooks
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir .

FROM ${PYTHON_IMAGE}
RUN useradd --create-home --uid 10001 wardbot
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/wardbot
# The seed of an empty database only: the catalogue served lives in the database (README,
# "How content flows"); change it with `wardbot catalogue import` or the console.
COPY procedures.yaml ./procedures.yaml
COPY intents ./intents
RUN mkdir -p /srv/wardbot/data && chown -R wardbot:wardbot /srv/wardbot
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////srv/wardbot/data/wardbot.db \
    WARDBOT_PROCEDURES=/srv/wardbot/procedures.yaml \
    WARDBOT_INTENTS=/srv/wardbot/intents
USER wardbot
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["wardbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
