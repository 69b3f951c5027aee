"""A page as a phone or a desktop shows it, audited: no horizontal scroll, and no serious or
critical violation found by axe-core (the copy bundled by axe-playwright-python, injected into
the page: nothing is downloaded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

SCREENS: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 375, "height": 740},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
SERIOUS = ("serious", "critical")
AXE = Axe()


@dataclass
class Audit:
    """Soft-collected problems of the pages visited, reported together at the end."""

    page: Page
    width: int
    problems: list[str] = field(default_factory=list)

    def visit(self, name: str, url: str, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response is not None, f"{name}: {url} answered nothing"
        assert response.status == status, f"{name}: {url} answered {response.status}"
        self.check(name)

    def check(self, name: str) -> None:
        """The page as it is now: its width in the window, then axe-core's serious findings."""
        self.page.wait_for_load_state("load")
        scroll, inner = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        if scroll > inner or inner > self.width:
            self.problems.append(
                f"{name} ({self.page.url}): {scroll} px wide in a {inner} px window"
                f" (the screen is {self.width} px)"
            )
        for violation in AXE.run(self.page).response["violations"]:
            if violation["impact"] in SERIOUS:
                targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:6])
                self.problems.append(
                    f"{name} ({self.page.url}): axe {violation['id']} ({violation['impact']}):"
                    f" {violation['help']} — {targets}"
                )
