"""Helpers shared by test folders (not fixtures: import what you need)."""
