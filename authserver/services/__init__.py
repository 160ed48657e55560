"""Business rules and transactions: plain arguments in, domain errors out.

Services never read ``flask.request`` or ``flask.g``; the HTTP edge and the
CLI pass what they need (the acting user, an :class:`~.audit.AuditContext`).
"""
