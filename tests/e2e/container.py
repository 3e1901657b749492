"""What a container gives each compose service and a shared machine does not: a hostname of its own.

In docker compose, Airflow's hostname of a component is its container's (`$HOSTNAME`, which the
compose healthchecks also use). The local topology sets HOSTNAME per process and points
`[core] hostname_callable` here, so task instances record which "container" ran them.
"""

from __future__ import annotations

import os


def hostname() -> str:
    return os.environ["HOSTNAME"]
