"""Per-API-key token buckets: `rate` tokens per second refill, up to `burst` tokens banked.

The default is generous (100 requests per second, bursts of 200) so ordinary test suites never
see a 429; tests of client back-off lower it through the admin API. A rate of 0 disables limiting.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_RATE = 100.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    rate: float
    burst: float

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self.configure(rate, burst)

    def configure(self, rate: float, burst: float | None = None) -> None:
        """Change the limits; every bucket starts full again."""
        if rate < 0 or (burst is not None and burst < 1):
            raise ValueError("rate must be >= 0 and burst >= 1")
        with self._lock:
            self.rate = rate
            self.burst = burst if burst is not None else max(1.0, 2 * rate)
            self._buckets.clear()

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def acquire(self, key_id: str) -> int | None:
        """Take one token for `key_id`: None when allowed, else seconds to wait (>= 1)."""
        if self.rate == 0:
            return None
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / self.rate))
