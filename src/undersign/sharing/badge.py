"""The count badge: a small SVG in the shape of the usual README badges (name | count), for
other sites to show with an ``<img>``. Text only, no script, no style attribute: it renders the
same in an ``<img>``, opened alone, and under our CSP."""

from __future__ import annotations

from django.utils.html import escape

HEIGHT = 20
PADDING = 6
LEFT_FILL = "#1d2430"
RIGHT_FILL = "#0846b8"  # white on it is above 4.5:1 (WCAG AA for small text)
FONT = "DejaVu Sans,Verdana,Geneva,sans-serif"


def text_width(text: str) -> int:
    """About how wide ``text`` is at 11 px in DejaVu Sans or Verdana (their letters and digits
    are 6–8 px, spaces and punctuation about 3.5). The SVG gives each text this length
    (``textLength``), so a viewer with another font still fits it in its box."""
    narrow = sum(1 for char in text if char.isspace() or char in ".,:;'!|")
    return round(7 * (len(text) - narrow) + 3.5 * narrow)


def badge_svg(*, name: str, count: str) -> str:
    """The badge: ``name`` on the left (the site's), ``count`` on the right (``1,234
    signatures``), its accessible name both together."""
    left, right = text_width(name), text_width(count)
    left_box, right_box = left + 2 * PADDING, right + 2 * PADDING
    width = left_box + right_box
    label = escape(f"{name}: {count}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" role="img" '
        f'aria-label="{label}" viewBox="0 0 {width} {HEIGHT}">'
        f"<title>{label}</title>"
        f'<clipPath id="r"><rect width="{width}" height="{HEIGHT}" rx="3"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left_box}" height="{HEIGHT}" fill="{LEFT_FILL}"/>'
        f'<rect x="{left_box}" width="{right_box}" height="{HEIGHT}" fill="{RIGHT_FILL}"/></g>'
        f'<g fill="#fff" font-family="{FONT}" font-size="11">'
        f'<text x="{PADDING}" y="14" textLength="{left}" lengthAdjust="spacingAndGlyphs">{escape(name)}</text>'
        f'<text x="{left_box + PADDING}" y="14" textLength="{right}" lengthAdjust="spacingAndGlyphs">'
        f"{escape(count)}</text></g></svg>"
    )
