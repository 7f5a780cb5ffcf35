"""Hostile submissions for tests/test_hostile.py (see docs/threat-model.md)."""
