"""A diagnosis as text for people: the CLI, task logs and (later) notifications."""

from __future__ import annotations

import textwrap

from exchange_sync.diagnosis.model import Diagnosis


def format_diagnosis(diagnosis: Diagnosis) -> str:
    e = diagnosis.evidence
    others = diagnosis.candidates[1:]
    action = "a person must act" if diagnosis.action_required else "none, retried automatically"
    lines = [
        diagnosis.title,
        f"  cause:      {diagnosis.cause}" + (f" (also possible: {', '.join(others)})" if others else ""),
        f"  action:     {action}",
        "",
        textwrap.fill(diagnosis.remediation, width=96, initial_indent="  ", subsequent_indent="  "),
        "",
        "  evidence:",
    ]
    for label, value in (
        ("HTTP status", e.http_status),
        ("code", e.code),
        ("message", e.message),
        ("ccxt class", e.ccxt_class),
        ("ccxt table", e.ccxt_table),
        ("matched", e.matched),
    ):
        if value is not None:
            lines.append(f"    {label}: {value}")
    lines += [f"    probe: {note}" for note in e.probes]
    lines += [f"  warning: {w}" for w in diagnosis.warnings]
    return "\n".join(lines)
