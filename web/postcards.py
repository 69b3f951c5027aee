"""The gift card postcards, drawn as SVG by our own code: one motif per design on its own colours,
the design's greeting and, when given, the amount. The purchase form shows them as previews; the
grantee's mail links to the same picture."""

from __future__ import annotations

from html import escape

from models.purchase import POSTCARDS

# background, ink, and the motif drawn in a 100×100 box
DESIGNS: dict[str, tuple[str, str, str]] = {
    "birthday": (
        "#fff0f6",
        "#c2255c",
        '<rect x="22" y="48" width="56" height="36" rx="4"/><path d="M22 62h56"/>'
        '<path d="M36 48v-12M50 48v-14M64 48v-12"/>'
        '<path d="M36 30q3-6 0-10M50 28q3-6 0-10M64 30q3-6 0-10"/>',
    ),
    "new-year": (
        "#e7f5ff",
        "#1864ab",
        '<path d="M50 12l22 34H60l18 26H22l18-26H28z"/><path d="M50 72v14"/>'
        '<circle cx="42" cy="52" r="3"/><circle cx="58" cy="60" r="3"/>'
        '<circle cx="50" cy="36" r="3"/>',
    ),
    "thanks": (
        "#fff9db",
        "#e67700",
        '<path d="M50 84C20 62 14 46 22 32c7-12 22-12 28 2 6-14 21-14 28-2 8 14 2 30-28 52z"/>',
    ),
    "flowers": (
        "#ebfbee",
        "#2b8a3e",
        '<circle cx="50" cy="36" r="8"/><circle cx="50" cy="20" r="8"/>'
        '<circle cx="64" cy="36" r="8"/><circle cx="36" cy="36" r="8"/>'
        '<circle cx="50" cy="50" r="8"/><path d="M50 58v30"/>'
        '<path d="M50 76q-14-2-18-12M50 70q12-2 16-12"/>',
    ),
}


def postcard_svg(design: str, amount: str = "") -> str:
    """A 320×200 postcard; KeyError for a design that does not exist."""
    background, ink, motif = DESIGNS[design]
    title = POSTCARDS[design]
    label = f"Открытка «{title}»"
    amount_text = (
        f'<text x="300" y="180" text-anchor="end" font-size="18">{escape(amount)}</text>'
        if amount
        else ""
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200"'
        f' role="img" aria-label="{escape(label)}">'
        f'<rect width="320" height="200" rx="18" fill="{background}"/>'
        f'<g transform="translate(18 30) scale(1.4)" fill="none" stroke="{ink}" stroke-width="4"'
        f' stroke-linecap="round" stroke-linejoin="round">{motif}</g>'
        f'<g font-family="system-ui, sans-serif" fill="{ink}">'
        f'<text x="300" y="70" text-anchor="end" font-size="24" font-weight="700">'
        f"{escape(title)}</text>"
        '<text x="300" y="100" text-anchor="end" font-size="14">подарочная карта Shopflow</text>'
        f"{amount_text}</g></svg>"
    )
