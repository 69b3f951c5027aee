"""The store's one money formatter, `core.money.format_roubles`, for the workflows.

Workflows may not import `core` (the import contracts in pyproject.toml and
tests/test_architecture.py), yet their activity summaries name amounts. They import this module
passed through (`workflow.unsafe.imports_passed_through()`), as they import the activity classes,
so the Temporal UI shows an amount as the pages and the mails do: "1 234,50 ₽".
"""

from __future__ import annotations

from core.money import format_roubles

__all__ = ["format_roubles"]
