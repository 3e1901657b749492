"""Notifications: what to tell the user about an incident, and delivery through Apprise."""

from __future__ import annotations
