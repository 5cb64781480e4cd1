"""Which addresses and ``Host`` names are this machine's loopback: the one rule behind the bind check,
the DNS-rebinding ``Host`` check and the fault-control caller check."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1`` (brackets and an IPv6 zone such as ``%lo`` allowed)."""
    host = (host or "").strip("[]").split("%")[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_host_header(value: str) -> bool:
    """Whether a ``Host`` header names this machine's loopback (``localhost``, 127.0.0.0/8, ``[::1]``, any port)."""
    host = value.strip().lower()
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":")[0]
    return is_loopback(host.rstrip("."))
