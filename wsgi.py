"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from authserver import create_app

app = create_app()
