"""Waiting out an exchange's "too many requests" inside the import, as the exchange asks.

A 429 (or Binance's 418, the ban that follows ignored 429s) used to fail the whole import task,
which Airflow retried 30 s later from the cursors: every stream and symbol asked again, and the
retry as likely to meet the same limit when imports of one exchange run side by side. The
exchange says how long to wait (`Retry-After`, in seconds or as an HTTP date); waiting that long
and sending the request again, re-signed (fresh nonce, timestamp, JWT), resumes the import where
it was. Waits longer than a task should sit idle (a ban of minutes or hours) are not waited out:
the import fails as before and the diagnosis says rate-limited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)

RATE_LIMIT_STATUSES = (429, 418)


@dataclass(frozen=True)
class RateLimitBackoff:
    max_wait_s: float = 120.0  # one wait; beyond it the task fails and Airflow retries later
    max_total_s: float = 300.0  # all waits of one request
    max_attempts: int = 6  # sends of one request, the first included
    fallback_s: float = 1.0  # no Retry-After: 1, 2, 4, ... seconds

    def delay(self, status: int | None, retry_after: str | None, attempt: int, waited: float) -> float | None:
        """Seconds to wait before sending again the request that was answered `status` on its
        `attempt`-th send (1-based), or None: do not retry, raise."""
        if status not in RATE_LIMIT_STATUSES or attempt >= self.max_attempts:
            return None
        wait = retry_after_seconds(retry_after)
        if wait is None:
            wait = self.fallback_s * 2 ** (attempt - 1)
        if wait > self.max_wait_s or waited + wait > self.max_total_s:
            return None
        return wait


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now (RFC 9110: delay-seconds or an HTTP-date); None if absent
    or unreadable."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def log_wait(exchange: str, path: str, status: int | None, wait: float, attempt: int) -> None:
    log.warning(
        "%s answered %s to %s: waiting %.1f s as it asks (Retry-After), then sending it again "
        "(attempt %d); the import goes on from there",
        exchange,
        status,
        path,
        wait,
        attempt + 1,
    )
