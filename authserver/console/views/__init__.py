"""Console pages, one module per part of the story (issue 4)."""

from . import administrators, auth, clients, organizations  # noqa: F401
