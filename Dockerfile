# One image for the API, the worker and the migrations.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY workflows workflows
COPY activities activities
COPY api api
COPY migrations migrations
COPY twilio_sim twilio_sim
COPY alembic.ini worker.py ./
RUN pip install -e . && useradd --system --uid 10001 app
USER app
EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
