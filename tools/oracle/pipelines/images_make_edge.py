#!/usr/bin/env python3
"""Generates the small edge-case images of tests/image/edge/ (deterministic).

Run with Pillow (the .venv-tf interpreter):
    .venv-tf/bin/python tools/oracle/pipelines/images_make_edge.py tests/image/edge
Each format variant starts from the same seeded photo-like picture (smooth
gradients, texture, hard edges) so resizing and chroma subsampling matter.
16-bit and grey+alpha PNGs are written by a minimal PNG encoder below because
Pillow cannot write them."""
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image


def photo(w, h, seed=1, noise=12.0):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / (w / 6.0 + 1)) * np.cos(y / (h / 4.0 + 1))
    g = 255 * x / max(w - 1, 1)
    b = 255 * y / max(h - 1, 1)
    img = np.stack([r, g, b], -1)
    img += rng.normal(0, noise, img.shape)  # sensor-like noise
    cx, cy = w * 0.6, h * 0.4  # a hard-edged disc
    disc = (x - cx) ** 2 + (y - cy) ** 2 < (min(w, h) * 0.2) ** 2
    img[disc] = [250, 240, 30]
    img[(x.astype(int) // 8 + y.astype(int) // 8) % 7 == 0] *= 0.5  # texture
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_raw(path, arr, color_type, depth, interlace=False):
    """Minimal PNG writer: arr is (h, w, c) uint8 or uint16 (big-endian out);
    interlace=True writes Adam7 (seven passes, filter 0)."""
    h, w = arr.shape[:2]

    def rows(a):
        if a.shape[0] == 0 or a.shape[1] == 0:
            return b""
        data = a.astype(">u2").tobytes() if depth == 16 else a.astype(np.uint8).tobytes()
        stride = len(data) // a.shape[0]
        return b"".join(b"\x00" + data[i * stride:(i + 1) * stride] for i in range(a.shape[0]))

    if interlace:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b"".join(rows(arr[y0::dy, x0::dx]) for x0, y0, dx, dy in passes)
    else:
        raw = rows(arr)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace))))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main(out):
    os.makedirs(out, exist_ok=True)
    P = lambda name: os.path.join(out, name)
    base = photo(120, 80)
    im = Image.fromarray(base, "RGB")
    # JPEG variants (Pillow/libjpeg encoder).
    im.save(P("jpeg_420_baseline.jpg"), quality=90, subsampling=2)
    im.save(P("jpeg_420_progressive.jpg"), quality=90, subsampling=2, progressive=True)
    im.save(P("jpeg_422.jpg"), quality=90, subsampling=1)
    im.save(P("jpeg_444.jpg"), quality=90, subsampling=0)
    Image.fromarray(photo(301, 199, 2, 3.0), "RGB").save(P("jpeg_420_odd_301x199.jpg"), quality=85)
    im.convert("L").save(P("jpeg_gray.jpg"), quality=90)
    im.convert("CMYK").save(P("jpeg_cmyk.jpg"), quality=90)  # Pillow's conversion: K = 0
    rng = np.random.RandomState(5)
    cmyk = np.dstack([255 - base, np.clip(base.min(2, keepdims=True).astype(int)
                                          + rng.randint(0, 60, (80, 120, 1)), 0, 255)]).astype(np.uint8)
    Image.fromarray(cmyk, "CMYK").save(P("jpeg_cmyk_k.jpg"), quality=90)  # with an Adobe marker
    with open(P("jpeg_cmyk_k.jpg"), "rb") as f:
        data = f.read()
    i = data.find(b"\xff\xee")  # APP14
    if i >= 0:  # drop the APP14 "Adobe" segment: same scans, no Adobe marker
        n = int.from_bytes(data[i + 2:i + 4], "big")
        with open(P("jpeg_cmyk_noadobe.jpg"), "wb") as f:
            f.write(data[:i] + data[i + 2 + n:])
    # PNG variants.
    im.save(P("png_rgb8.png"))
    im.convert("L").save(P("png_gray8.png"))
    im.convert("P", palette=Image.ADAPTIVE, colors=64).save(P("png_palette.png"))
    pal = im.convert("P", palette=Image.ADAPTIVE, colors=16)
    pal.save(P("png_palette_trns.png"), transparency=3)
    im.convert("1").save(P("png_gray1.png"))
    a = np.clip(np.arange(120)[None, :] * 255 // 119 + np.zeros((80, 1), int), 0, 255).astype(np.uint8)
    Image.fromarray(np.dstack([base, a]), "RGBA").save(P("png_rgba8.png"))
    gray = np.asarray(im.convert("L"))
    png_raw(P("png_gray_alpha8.png"), np.dstack([gray, a]), 4, 8)
    rng = np.random.RandomState(7)
    wide = base.astype(np.uint16) * 257 + rng.randint(0, 257, base.shape).astype(np.uint16)
    png_raw(P("png_rgb16.png"), wide, 2, 16)
    png_raw(P("png_rgba16.png"), np.dstack([wide, a.astype(np.uint16) * 257]), 6, 16)
    png_raw(P("png_gray16.png"), wide[:, :, :1], 0, 16)  # Pillow clips, TF takes the high byte
    png_raw(P("png_gray16_low.png"), (wide[:, :, :1] >> 8), 0, 16)  # values 0..255 in 16 bits
    png_raw(P("png_gray_alpha16.png"), np.dstack([wide[:, :, :1], a.astype(np.uint16) * 257]), 4, 16)
    png_raw(P("png_rgb8_interlaced.png"), base, 2, 8, interlace=True)
    png_raw(P("png_rgba16_interlaced.png"), np.dstack([wide, a.astype(np.uint16) * 257])[:13, :11], 6, 16,
            interlace=True)
    # Sizes around the pipelines' 224 / 256.
    for w, h in [(1, 1), (1, 5000), (5000, 1), (223, 223), (225, 225), (255, 255), (257, 257),
                 (223, 300), (300, 225), (255, 340), (257, 200), (224, 224), (256, 256), (2, 3)]:
        Image.fromarray(photo(w, h, w * 7 + h, 0.0), "RGB").save(P(f"size_{w}x{h}.png"))
    Image.fromarray(photo(257, 255, 3), "RGB").save(P("size_257x255.jpg"), quality=92)
    # Every byte value in every channel.
    v = np.arange(256, dtype=np.uint8)
    allv = np.stack([v[None, :].repeat(256, 0), v[:, None].repeat(256, 1),
                     ((v[None, :].astype(int) + v[:, None]) % 256).astype(np.uint8)], -1)
    Image.fromarray(allv, "RGB").save(P("all256.png"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/image/edge")
