"""ICC profiles for tests, built byte by byte: ImageCms makes only sRGB, LAB and XYZ, and Pillow ships none.

`display_p3()` is a v2 matrix/TRC monitor profile with Display P3's colorants (D65 primaries adapted to the D50
connection space, as in Apple's profile) and the sRGB tone curve, which P3 shares.
"""

from __future__ import annotations

import struct


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_ + b"\0" * 8 + b"\0" * 3 + b"\0" * 67


def _srgb_curve() -> bytes:
    # parametricCurveType, function 3: Y = (aX + b)^g for X >= d, else cX
    g, a, b, c, d = 2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045
    return b"para" + b"\0" * 4 + struct.pack(">HH", 3, 0) + b"".join(_s15(v) for v in (g, a, b, c, d))


def _profile(name: str, colorants: tuple[tuple[float, float, float], ...]) -> bytes:
    curve = _srgb_curve()
    tags = [(b"desc", _desc(name)), (b"wtpt", _xyz(0.964203, 1.0, 0.824905)),
            (b"rXYZ", _xyz(*colorants[0])), (b"gXYZ", _xyz(*colorants[1])), (b"bXYZ", _xyz(*colorants[2])),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve), (b"cprt", b"text" + b"\0" * 4 + b"none\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = [], b""
    for sig, body in tags:
        table.append(sig + struct.pack(">II", offset + len(data), len(body)))
        data += body + b"\0" * (-len(body) % 4)
    body = struct.pack(">I", len(tags)) + b"".join(table) + data
    size = 128 + len(body)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + b"\0" * 4 + b"\0" * 8 + b"\0" * 8
              + struct.pack(">I", 0) + _s15(0.964203) + _s15(1.0) + _s15(0.824905) + b"lcms" + b"\0" * 44)
    assert len(header) == 128
    return header + body


def display_p3() -> bytes:
    return _profile("Display P3", ((0.515102, 0.241182, -0.001050), (0.291965, 0.692236, 0.041882),
                                   (0.157153, 0.066582, 0.784378)))
