"""A budget for argon2 work spent on failures, so that a flood of wrong
secrets cannot take the CPU from the clients that authenticate.

The failure throttle (:mod:`authserver.throttle`) counts per address; a flood
from changing addresses (a botnet, or many ``X-Forwarded-For`` values behind
trusted proxies) never reaches it. So failed verifications are also counted
all together, against ``ARGON2_FAILURE_BUDGET`` (default one every two
seconds): per instance, shared by the workers of ``authserver serve`` through a
file of the run (:mod:`authserver.instance_rate`); with
``AUTHSERVER_REDIS_URL``, shared by every process of every instance; in memory
(per process) when neither is there (a development server, the tests).

Kept low because a failed verification serves no one who could get a token,
and each one costs a core 33 ms with the production parameters and evicts the
processor cache that every other request runs in: at one a second and process,
a flood raised a verified client's p99 to 2.4 times its quiet value
(``bench/argon2_flood.py``). Refusals of the
token endpoint are also held before they are sent (:class:`authserver.gate.Tarpit`),
so that a flood's connections cannot ask again at once.

While the budget is spent, a verification runs only for a known client id that
is within its own failure count (``AUTH_FAILURE_LIMIT``, counted per client id
from every address); an unknown client id, or one that has failed too often, is
refused with 429 before any hashing. A client whose secret a process has
verified is never affected: the verified-credential cache answers it first.
(Under a flood, a 429 instead of a 401 tells that a client id does not exist;
the flood's sender learns nothing it could use: secrets have 256 bits.)

Addresses are also counted per network (:func:`network_of`: /24 for IPv4,
/64 for IPv6), as one host usually holds a whole IPv6 /64.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from typing import Any

from ..instance_rate import InstanceRate
from ..observability import metrics
from ..throttle import FailureThrottle

#: the one key of the instance-wide (or, with Redis, shared) failure count
_ALL = "all"


def network_of(address: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of *address*; *address* itself
    when it is not an IP address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _client_key(client_id: str) -> str:
    return hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class VerificationBudget:
    """Failed verifications per second, overall and per client id.

    :param budget: a ``limits`` expression for all failures (``"1 per 2 seconds"``).
    :param client_limit: a client id's own failure count (``"10/minute"``).
    :param storage_uri: ``redis://...`` to share the counts; ``None``: this process.
    :param instance_file: without *storage_uri*, the file that counts all
        failures for every worker of the instance (a client id's own count
        stays per process).
    """

    def __init__(
        self,
        budget: str,
        client_limit: str,
        storage_uri: str | None = None,
        instance_file: str | None = None,
    ) -> None:
        self._all: FailureThrottle | InstanceRate
        if instance_file and not storage_uri:
            self._all = InstanceRate(budget, instance_file)
        else:
            self._all = FailureThrottle(budget, "argon2-budget", storage_uri)
        self._clients = FailureThrottle(client_limit, "argon2-client-failures", storage_uri)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> VerificationBudget:
        return cls(
            config["ARGON2_FAILURE_BUDGET"],
            config["AUTH_FAILURE_LIMIT"],
            config.get("REDIS_URL"),
            config.get("ARGON2_BUDGET_FILE"),
        )

    def retry_after(self, client_id: str, *, known: bool) -> int:
        """Seconds to wait before verifying for *client_id* (0: go ahead).

        An unknown client id's verification can only fail, so it takes its
        share of the budget here, in one step with the check (a Lua script
        in Redis, the file's lock, the memory storage's lock). A check now and
        a count after the 33 ms of hashing had let every request that checked
        meanwhile through: with Redis, a flood got 2.2 verifications a second
        past a budget of one every two seconds.

        :param known: whether *client_id* is a client with a live secret.
        """
        if not known:
            if self._all.take(_ALL):
                return 0
            metrics.ARGON2_BUDGET_REFUSALS.labels("unknown").inc()
            return 1  # the budget is per second
        if not self._all.retry_after(_ALL):
            return 0
        own = self._clients.retry_after(_client_key(client_id))
        if not own:
            return 0
        metrics.ARGON2_BUDGET_REFUSALS.labels("known").inc()
        return max(1, own)

    def failed(self, client_id: str, *, known: bool = True) -> None:
        """Count one failed verification of *client_id*; for an unknown
        client id, :meth:`retry_after` counted it when it let it through."""
        if known:
            self._all.failed(_ALL)
            self._clients.failed(_client_key(client_id))
