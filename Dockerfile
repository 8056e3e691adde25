# One image for the three app containers (migrate, api, worker); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PATH="/app/.venv/bin:$PATH"

RUN pip install --no-cache-dir uv

WORKDIR /app

# Dependencies first, so code changes do not invalidate this layer.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-cache

COPY services/ services/
COPY migrations/ migrations/
COPY alembic.ini ./

RUN useradd --system --uid 10001 --no-create-home app
# Evidence files (EVIDENCE_DIR): a volume shared by the API replicas, owned by the app's user.
RUN mkdir -p /app/var/evidence && chown app /app/var/evidence
USER app

EXPOSE 8000
CMD ["uvicorn", "services.api.app:app", "--host", "0.0.0.0", "--port", "8000", "--log-config", "services/observability/uvicorn_logging.json"]
