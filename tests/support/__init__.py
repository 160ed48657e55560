"""Helpers shared by the OAuth tests (clients, requests, a real server)."""
