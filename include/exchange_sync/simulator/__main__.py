"""`python -m exchange_sync.simulator [--host H] [--port P] [--seed S] [--size X] [--state-file F]`."""

from __future__ import annotations

import sys

from exchange_sync.simulator.server import main

if __name__ == "__main__":
    sys.exit(main())
