"""Deliver batches of reports to the operator's ingest endpoint, riding out its restarts.

The operator is a Deployment: it restarts on upgrades, node drains and leader changes,
and its endpoint is unreachable meanwhile. A batch is therefore retried with capped
exponential backoff (with jitter, so a fleet of sidecars does not reconnect in lockstep)
until it is accepted, definitively rejected, or the caller's deadline passes.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from kubetune.reporting.protocol import STEP_KEY, MetricReport

REPORTS_PATH = "/v1/reports"
REQUEST_TIMEOUT_S = 5.0
# Statuses worth retrying: the server is busy or restarting. Any other 4xx means the
# batch itself is refused (bad token, too large) and resending it cannot succeed.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class TrialIdentity:
    """Which trial the reports belong to, and the token that proves it."""

    namespace: str
    experiment: str
    trial: str
    token: str
    # The pod's place in a multi-pod trial, which its token binds (`env.replica_name`).
    replica: str | None = None


@dataclass(frozen=True)
class Backoff:
    first_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int) -> float:
        # the exponent is capped so an operator down for days does not overflow a float
        capped = min(self.max_delay_s, self.first_delay_s * 2.0 ** min(attempt, 32))
        return capped * random.uniform(0.5, 1.0)


def encode_batch(identity: TrialIdentity, reports: list[MetricReport]) -> bytes:
    """The request body; the token travels in the Authorization header, not here."""
    points = [{STEP_KEY: report.step, "metrics": report.metrics} for report in reports]
    body = {
        "namespace": identity.namespace,
        "experiment": identity.experiment,
        "trial": identity.trial,
        **({"replica": identity.replica} if identity.replica is not None else {}),
        "reports": points,
    }
    # NaN and Infinity go out as such: the lifecycle needs to see a diverged objective.
    return json.dumps(body).encode()


class IngestClient:
    def __init__(self, base_url: str, identity: TrialIdentity, backoff: Backoff) -> None:
        self.url = base_url.rstrip("/") + REPORTS_PATH
        self.identity = identity
        self.backoff = backoff

    def deliver(self, reports: list[MetricReport], stop: threading.Event, deadline: float) -> bool:
        """True once accepted; False when rejected for good or past `deadline` (monotonic).
        While `stop` is unset the deadline is ignored: a running trial waits for the
        operator as long as it takes, since its metrics stay safely in the file."""
        body = encode_batch(self.identity, reports)
        attempt = 0
        while True:
            outcome = self._post(body)
            if outcome is not None:
                return outcome
            wait = self.backoff.delay(attempt)
            if stop.is_set() and time.monotonic() + wait > deadline:
                log(f"giving up on {len(reports)} report(s): the operator did not answer")
                return False
            stop.wait(wait)  # a SIGTERM cuts a long wait short and moves on to the flush
            attempt += 1

    def _post(self, body: bytes) -> bool | None:
        """True: accepted; False: refused for good; None: worth retrying."""
        request = urllib.request.Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {self.identity.token}")
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S):
                return True
        except urllib.error.HTTPError as error:
            if error.code < 500 and error.code not in RETRYABLE_STATUSES:
                log(f"the operator refused the reports: HTTP {error.code} {error.read()[:200]!r}")
                return False
            return None
        except (OSError, TimeoutError):  # refused, reset, DNS not yet resolvable
            return None


def log(message: str) -> None:
    print(f"kubetune-reporter: {message}", file=sys.stderr, flush=True)
