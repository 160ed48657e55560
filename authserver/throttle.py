"""Slowing down repeated failures (client authentication, admin login).

Failures are counted per key (a client id, an e-mail, a remote address) in a
moving window with the ``limits`` library: in process memory by default, in
Redis when ``AUTHSERVER_REDIS_URL`` is set so that every instance shares the
counts. Only failures are counted, so a key that keeps succeeding is never
slowed down by its own traffic; callers check :meth:`FailureThrottle.retry_after`
*before* doing expensive work (argon2) and answer 429 with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from limits import RateLimitItem, parse
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


class FailureThrottle:
    """Counts failures per key and says how long a key must wait.

    :param limit: a ``limits`` expression such as ``"10/minute"``.
    :param namespace: keeps the counters of different throttles apart.
    :param storage_uri: ``redis://...`` for shared counts; ``None`` for memory.
    """

    def __init__(self, limit: str, namespace: str, storage_uri: str | None = None) -> None:
        self.item: RateLimitItem = parse(limit)
        self.namespace = namespace
        self._memory = MemoryStorage()
        storage: Storage = self._memory
        if storage_uri:
            shared = storage_from_string(storage_uri)
            if not isinstance(shared, Storage):  # an ``async+...`` URI
                raise ConfigurationError("the throttle needs a synchronous storage URI")
            storage = shared
        self._storage = storage
        #: counted in a shared storage (Redis): each call waits for a round trip
        self.shared = storage is not self._memory
        self._limiter = MovingWindowRateLimiter(storage)
        self._fallback = MovingWindowRateLimiter(self._memory)

    def _call(self, method: str, *args: Any) -> Any:
        """Use the shared storage; fall back to memory when it is unreachable."""
        try:
            return getattr(self._limiter, method)(*args)
        except Exception as error:  # noqa: BLE001 - redis errors vary by client version
            log.warning(
                "throttle storage unavailable (%s); counting in memory", type(error).__name__
            )
            return getattr(self._fallback, method)(*args)

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait before another attempt for any of *keys* (0: go ahead)."""
        wait = 0
        for key in keys:
            if not self._call("test", self.item, self.namespace, key):
                stats = self._call("get_window_stats", self.item, self.namespace, key)
                wait = max(wait, max(1, math.ceil(stats.reset_time - time.time())))
        return wait

    def take(self, key: str) -> bool:
        """Count one failure for *key* if it is within its limit, in one step
        (a check and a count apart let every caller between them through);
        ``False``: over the limit, nothing counted."""
        return bool(self._call("hit", self.item, self.namespace, key))

    def failed(self, *keys: str) -> None:
        """Count one failure for each of *keys*."""
        for key in keys:
            self._call("hit", self.item, self.namespace, key)

    def clear(self, *keys: str) -> None:
        """Forget the failures of *keys* (e.g. after an operator unlocks them)."""
        for key in keys:
            self._call("clear", self.item, self.namespace, key)


def from_config(config: Mapping[str, Any], limit_key: str, namespace: str) -> FailureThrottle:
    """A throttle configured from the application config."""
    return FailureThrottle(config[limit_key], namespace, config.get("REDIS_URL"))
