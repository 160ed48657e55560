"""Console pages, one module per part of the story (issue 4)."""

from . import administrators, assignments, auth, clients, credentials  # noqa: F401
