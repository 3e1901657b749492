"""Diagnosis: name the cause of a failed exchange request, with evidence and what to do.

One classifier (classify.py) over per-exchange knowledge kept as data (exchanges/*.yaml), like
ccxt's own error hierarchy; for what no knowledge file knows, on any ccxt exchange, the error's
own words (exchanges/_words.yaml), ccxt's class and error table, and the status (decide.py); live
probes (probes.py, read_probe.py) narrow ambiguous answers in the pipeline.
"""

from __future__ import annotations

from exchange_sync.diagnosis.causes import CAUSES, TRANSIENT
from exchange_sync.diagnosis.classify import classify
from exchange_sync.diagnosis.model import Diagnosis, Evidence

__all__ = ["CAUSES", "TRANSIENT", "Diagnosis", "Evidence", "classify"]
