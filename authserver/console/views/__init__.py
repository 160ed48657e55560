"""Console pages, one module per part of the story (issue 4)."""

from . import administrators, auth, clients, organizations, problems  # noqa: F401
