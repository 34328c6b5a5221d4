"""The HTTP API (FastAPI): resident, volunteer, admin and call-center routes."""
