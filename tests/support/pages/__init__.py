"""Playwright helpers for the store's pages, shared by the browser tests (tests/browser)."""
