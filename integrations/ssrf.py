"""Where an outbound URL may point: never at the product's own network, unless allowed.

Checked when an endpoint is saved and again before every delivery, since a name's DNS
answer can change after it was saved.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def url_refusal(url: str) -> str | None:
    """Why this URL may not receive webhooks, or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return _("Only http and https URLs can receive webhooks.")
    host = parts.hostname
    if not host:
        return _("The URL has no host.")
    if host in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", []):
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        return _("The host %(host)s could not be resolved.") % {"host": host}
    for info in infos:
        address = info[4][0]
        if _forbidden(address):
            return _(
                "%(host)s resolves to %(address)s, a private, loopback, link-local or reserved "
                "address; webhooks may not point there."
            ) % {"host": host, "address": address}
    return None
