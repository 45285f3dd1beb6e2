"""Simple fixed-window rate limits on public writes, keyed by a hash of the client address."""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_key(request: HttpRequest) -> str:
    """A keyed hash of the client address: enough to count, useless to identify."""
    address = request.META.get("REMOTE_ADDR", "")
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, f"ip:{address}".encode(), hashlib.sha256).hexdigest()[:32]


def allow(request: HttpRequest, scope: str, limit: int, window_seconds: int = 3600) -> bool:
    """Count one request in `scope`; False once `limit` is passed within the window."""
    window = int(time.time() // window_seconds)
    key = f"throttle:{scope}:{client_key(request)}:{window}"
    if cache.add(key, 1, timeout=window_seconds + 60):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds + 60)
        return True
    return count <= limit
