"""E-mail: the outbox worker that delivers what the services wrote.

Services never send mail: they add rows to the outbox
(:class:`~authserver.models.OutboxMessage`) in the transaction of the change
that causes them (:mod:`authserver.services.notices`,
:mod:`authserver.services.export_failures`). ``authserver mail worker``
(:mod:`authserver.mail.worker`) claims due rows, renders them
(:mod:`authserver.mail.render`) and hands them to SMTP or, without
``AUTHSERVER_SMTP_URL``, writes ``.eml`` files (:mod:`authserver.mail.transport`).
"""
