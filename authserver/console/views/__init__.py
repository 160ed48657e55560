"""Console pages, one module per part of the story."""

from . import administrators, assignments, auth, clients, credentials, problems  # noqa: F401
