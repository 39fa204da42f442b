"""The share image: a 1200×630 PNG (the size Open Graph and Twitter's large card ask for) of a
petition's action and its rounded count, drawn on our side with Pillow. Never a name: not the
creator's, not a signer's.

The font is DejaVu Sans from the system (Debian's ``fonts-dejavu-core``, which ``make test``
installs): it has Cyrillic. Without it (a developer's machine that lacks the package), Pillow's
bundled default font draws the image instead, so ``make run`` works anywhere; that font has no
Cyrillic, so a Russian action then shows as boxes, and a warning says which package to install.
We do not ship the font files: the system's copy gets the distribution's updates and keeps 1.4 MB
of binaries out of the repository and the package.
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 1200, 630
MARGIN = 88
BACKGROUND = "#ffffff"
INK = "#1d2430"
ACCENT = "#0b5fff"
MUTED = "#5b6576"

# Where Linux distributions put DejaVu Sans: Debian and Ubuntu, Fedora, Arch.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/TTF"),
)
ACTION_TOP = 72
ACTION_HEIGHT = 360  # down to 432, clear of the rule at 468 that sets the count apart
ACTION_SIZES = (64, 58, 52, 46, 40)  # the largest at which the action fits in ACTION_HEIGHT
LINE_SPACING = 1.22
ELLIPSIS = "…"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont | ImageFont.TransposedFont


def font_path(bold: bool) -> Path | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return next((folder / name for folder in FONT_DIRS if (folder / name).is_file()), None)


@functools.cache
def font(size: int, *, bold: bool = False) -> Font:
    path = font_path(bold)
    if path is None:
        log.warning(
            "DejaVu Sans not found: share images use Pillow's font, without Cyrillic (install fonts-dejavu-core)"
        )
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size=size)


def wrap(text: str, face: Font, width: int) -> list[str]:
    """``text`` in lines no wider than ``width``, broken between words (inside a word only when
    the word alone is too wide)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if face.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:  # a word wider than the line, as in a URL or a long compound
            if face.getlength(line + char) > width and line:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def max_lines(size: int) -> int:
    return int(ACTION_HEIGHT // (size * LINE_SPACING))


def fit_action(action: str, width: int) -> tuple[Font, list[str]]:
    """The action at the largest size at which it fits; at the smallest, cut with an ellipsis."""
    for size in ACTION_SIZES:
        face = font(size, bold=True)
        lines = wrap(action, face, width)
        if len(lines) <= max_lines(size):
            return face, lines
    lines = lines[: max_lines(size)]
    last = lines[-1]
    while last and face.getlength(last + ELLIPSIS) > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + ELLIPSIS
    return face, lines


def render_share_image(*, action: str, count: str, label: str) -> bytes:
    """The PNG: the action at the top, the count (already formatted, e.g. ``1 200+``) and its
    word (``signatures``) at the bottom."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 20, HEIGHT), fill=ACCENT)
    text_width = WIDTH - 2 * MARGIN

    face, lines = fit_action(action, text_width)
    line_height = int(getattr(face, "size", 20) * LINE_SPACING)
    y = ACTION_TOP
    for line in lines:
        draw.text((MARGIN, y), line, font=face, fill=INK)
        y += line_height

    draw.line((MARGIN, 468, WIDTH - MARGIN, 468), fill="#dde1e7", width=3)
    count_face = font(84, bold=True)
    draw.text((MARGIN, 560), count, font=count_face, fill=ACCENT, anchor="ls")
    label_x = MARGIN + count_face.getlength(count) + 24
    draw.text((label_x, 560), label, font=font(44), fill=MUTED, anchor="ls")

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
