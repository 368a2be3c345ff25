# One image for every process: the API by default; compose.yaml runs the worker, the scheduler and the
# migration job from the same image with another command.
#
#   docker build -t chorus .
#   docker run --rm -p 8000:8000 -e CHORUS_SECRET_KEY=... chorus
#
# The image runs in production mode: without CHORUS_SECRET_KEY (or with a guessable one) every process refuses to
# start, and /docs and /openapi.json answer 404 unless CHORUS_API_DOCS=true.

# ---- client: the web client (client/, TypeScript) built by Vite from its lock, as `make client` does ----
FROM node:20-slim AS client

WORKDIR /src/client
COPY client/package.json client/package-lock.json ./
RUN npm ci
COPY client/ ./
# Writes ../src/chorus/client/built, which the builder copies into the package before building the wheel.
RUN npm run build

# ---- builder: resolve the locked runtime dependencies and install chorus (not editable) into /app/.venv ----
FROM python:3.11-slim AS builder

# The same uv the Makefile bootstraps (UV_VERSION in Makefile).
RUN pip install --no-cache-dir uv==0.13.9

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# Dependencies first, so that a change to the code alone reuses this layer.
COPY pyproject.toml uv.lock ./
# theatre (the layout's checker) is a workspace member and a development dependency only: uv reads its pyproject.
COPY theatre/pyproject.toml ./theatre/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-project

# Then the project itself, built as a wheel and installed into the venv (migrations ship inside chorus).
COPY README.md alembic.ini ./
COPY src/ ./src/
COPY --from=client /src/src/chorus/client/built ./src/chorus/client/built
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# ---- runtime: the interpreter and the venv, nothing else (no uv, no sources, no dev dependencies) ----
FROM python:3.11-slim AS runtime

ENV PATH="/app/.venv/bin:$PATH" \
    CHORUS_ENV=production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN groupadd --gid 10001 chorus \
    && useradd --uid 10001 --gid chorus --no-create-home --home-dir /app --shell /usr/sbin/nologin chorus

WORKDIR /app

# The venv's scripts point at /app/.venv/bin/python, so it must keep this path.
COPY --from=builder /app/.venv /app/.venv

# var/ is the only place the process writes, and only on the embedded defaults (SQLite files, mail as .eml);
# containers normally point CHORUS_DATABASE_URL, CHORUS_BROKER_URL and CHORUS_SMTP_URL at real services.
RUN mkdir -p /app/var && chown chorus:chorus /app/var

USER 10001:10001

EXPOSE 8000

# Liveness of the API process (slim has no curl). The worker and scheduler override or disable this.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

# No proxy headers believed by uvicorn (chorus trusts X-Forwarded-For only from CHORUS_TRUSTED_PROXIES), and h11 with
# a 16 KiB bound on a request head still being received (httptools has none: it buffered a 64 MiB header whole).
CMD ["uvicorn", "chorus.api:app", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers", \
     "--http", "h11", "--h11-max-incomplete-event-size", "16384"]
