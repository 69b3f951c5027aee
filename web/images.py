"""Product pictures, drawn as SVG by our own code: a pictogram of the category on a colour field
picked from the product id, with the product's name underneath. No image files, no hotlinks."""

from __future__ import annotations

import hashlib
from html import escape

PALETTES = (
    ("#e8f0fe", "#1f6feb"),
    ("#fdf2e9", "#d9480f"),
    ("#ebfbee", "#2b8a3e"),
    ("#f3f0ff", "#6741d9"),
    ("#fff9db", "#e67700"),
    ("#e3fafc", "#0c8599"),
    ("#fff0f6", "#c2255c"),
)

# One pictogram per category, drawn in a 100×100 box (stroke colour comes from the palette).
PICTOGRAMS = {
    "kitchen": '<path d="M30 40 h40 v38 a6 6 0 0 1 -6 6 h-28 a6 6 0 0 1 -6 -6z"/>'
    '<path d="M70 48 h8 a6 6 0 0 1 0 16 h-8"/><path d="M38 40 v-8 h24 v8"/><path d="M44 28 h12"/>',
    "cookware": '<ellipse cx="50" cy="58" rx="32" ry="14"/><path d="M18 58 v8 a32 14 0 0 0 64 0 v-8"/>'
    '<path d="M82 56 h12"/>',
    "electronics": '<rect x="32" y="18" width="36" height="64" rx="6"/><path d="M46 74 h8"/>'
    '<rect x="37" y="26" width="26" height="40" rx="2"/>',
    "home": '<path d="M20 50 L50 24 L80 50"/><path d="M28 44 v36 h44 v-36"/><rect x="44" y="60" width="12" height="20"/>',
    "sport": '<circle cx="30" cy="66" r="14"/><circle cx="72" cy="66" r="14"/>'
    '<path d="M30 66 L44 40 L60 66 L72 66 M44 40 h20 L72 66 M40 34 h10"/>',
    "kids": '<rect x="24" y="48" width="24" height="24" rx="3"/><rect x="52" y="48" width="24" height="24" rx="3"/>'
    '<rect x="38" y="24" width="24" height="24" rx="3"/>',
    "stationery": '<path d="M30 78 L70 22 L78 28 L38 84 L28 86z"/><path d="M64 30 L72 36"/>',
    "garden": '<path d="M50 84 V44"/><path d="M50 56 C30 56 24 40 26 30 C40 30 50 40 50 56"/>'
    '<path d="M50 48 C66 48 74 34 72 24 C58 24 50 34 50 48"/>',
    "beauty": '<rect x="40" y="36" width="20" height="46" rx="4"/><path d="M44 36 v-10 h12 v10"/><path d="M47 26 v-6 h6"/>',
    "grocery": '<path d="M26 40 h48 l-6 42 h-36z"/><path d="M38 40 a12 12 0 0 1 24 0"/>',
}
DEFAULT_PICTOGRAM = '<rect x="26" y="30" width="48" height="44" rx="4"/><path d="M26 44 h48"/>'


def _wrap(name: str, width: int = 24, lines: int = 2) -> list[str]:
    out: list[str] = [""]
    for word in name.split():
        if len(out[-1]) + len(word) + 1 > width and out[-1]:
            if len(out) == lines:
                out[-1] = out[-1].rstrip() + "…"
                break
            out.append("")
        out[-1] = f"{out[-1]} {word}".strip()
    return out


def product_svg(*, product_id: int, name: str, category_slug: str) -> str:
    """A 240×240 SVG picture of the product."""
    digest = hashlib.sha256(f"{product_id}".encode()).digest()
    background, ink = PALETTES[digest[0] % len(PALETTES)]
    tilt = digest[1] % 11 - 5
    pictogram = PICTOGRAMS.get(category_slug, DEFAULT_PICTOGRAM)
    caption = "".join(
        f'<text x="120" y="{196 + 18 * i}" text-anchor="middle">{escape(line)}</text>'
        for i, line in enumerate(_wrap(name))
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240" viewBox="0 0 240 240"'
        f' role="img" aria-label="{escape(name)}">'
        f'<rect width="240" height="240" rx="16" fill="{background}"/>'
        f'<g transform="translate(50 20) scale(1.4) rotate({tilt} 50 50)" fill="none"'
        f' stroke="{ink}" stroke-width="4" stroke-linecap="round" stroke-linejoin="round">'
        f"{pictogram}</g>"
        f'<g font-family="system-ui, sans-serif" font-size="14" fill="#1d2330">{caption}</g>'
        "</svg>"
    )
