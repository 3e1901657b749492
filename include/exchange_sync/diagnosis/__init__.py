"""Diagnosis: name the cause of a failed exchange request, with evidence and what to do.

One classifier (classify.py) over per-exchange knowledge kept as data (exchanges/*.yaml), like
ccxt's own error hierarchy; live probes (probes.py) narrow ambiguous answers in the pipeline.
"""

from __future__ import annotations

from exchange_sync.diagnosis.causes import CAUSES, TRANSIENT
from exchange_sync.diagnosis.classify import classify
from exchange_sync.diagnosis.model import Diagnosis, Evidence

__all__ = ["CAUSES", "TRANSIENT", "Diagnosis", "Evidence", "classify"]
