"""Avatar images: uploads made safe to serve, and a generated default.

An upload is never stored as sent. It must decode as PNG, JPEG or GIF (whatever its
Content-Type says); its dimensions are checked from the header *before* the pixels are
decoded, so a small file that would expand to gigabytes (a decompression bomb) is refused
without being expanded; then it is cropped to a square, resized and re-encoded, which also
drops EXIF and other metadata (camera location, comments) the person may not mean to share.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from packyard.errors import Invalid, TooLarge

FORMATS = ("PNG", "JPEG", "GIF")
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE


@dataclass(frozen=True)
class AvatarImage:
    content: bytes
    content_type: str
    etag: str = ""

    def __post_init__(self) -> None:
        if not self.etag:
            object.__setattr__(self, "etag", hashlib.sha256(self.content).hexdigest())


class Avatars:
    """Normalize uploaded avatars and draw identicons, all ``size`` × ``size`` pixels."""

    def __init__(self, *, max_bytes: int, size: int) -> None:
        self.max_bytes = max_bytes
        self.size = size

    def normalize(self, data: bytes) -> AvatarImage:
        if len(data) > self.max_bytes:
            raise TooLarge(f"The avatar must be at most {self.max_bytes // 1024} KiB")
        if not data:
            raise Invalid("Send the avatar image as the request body (PNG, JPEG or GIF)")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                    width, height = image.size
                    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                        raise Invalid(f"The avatar must be at most {MAX_SIDE}×{MAX_SIDE} pixels")
                    if width < 1 or height < 1:
                        raise Invalid("The avatar image is empty")
                    source_format = image.format
                    image.seek(0)  # the first frame of an animation
                    if source_format == "JPEG":
                        image.draft("RGB", (self.size, self.size))  # decode JPEGs at a reduced scale
                    image.load()
                    square = self._square(image)
        except Invalid:
            raise
        except (Image.UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                OSError, SyntaxError, ValueError, EOFError):
            raise Invalid("The avatar must be a valid PNG, JPEG or GIF image") from None
        out = io.BytesIO()
        if source_format == "JPEG":
            square.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
            return AvatarImage(out.getvalue(), "image/jpeg")
        square.save(out, "PNG", optimize=True)
        return AvatarImage(out.getvalue(), "image/png")

    def _square(self, image: Image.Image) -> Image.Image:
        image = ImageOps.exif_transpose(image)
        transparent = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if transparent else "RGB")
        return ImageOps.fit(image, (self.size, self.size), method=Image.Resampling.LANCZOS)

    def identicon(self, seed: str) -> AvatarImage:
        return _identicon(seed, self.size)


@functools.lru_cache(maxsize=512)
def _identicon(seed: str, size: int) -> AvatarImage:
    """A symmetric 5×5 pattern in one colour, derived from ``seed`` (GitHub-style)."""
    digest = hashlib.md5(seed.encode(), usedforsecurity=False).digest()
    red, green, blue = colorsys.hls_to_rgb(digest[0] / 255, 0.45 + digest[1] / 255 * 0.15,
                                           0.45 + digest[2] / 255 * 0.3)
    colour = (int(red * 255), int(green * 255), int(blue * 255))
    cells = 5
    cell = size // (cells + 1)
    margin = (size - cell * cells) // 2
    image = Image.new("RGB", (size, size), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    bits = int.from_bytes(digest[3:6], "big")
    for row in range(cells):
        for column in range(3):  # mirrored onto columns 4 and 5
            if bits >> (row * 3 + column) & 1:
                for x in {column, cells - 1 - column}:
                    left, top = margin + x * cell, margin + row * cell
                    draw.rectangle((left, top, left + cell - 1, top + cell - 1), fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return AvatarImage(out.getvalue(), "image/png")
