"""Compress a growing log in pieces, then read it back line by line, without holding it all in memory.

    python examples/stream_logs.py [LOGFILE]

With no LOGFILE it makes up a small web-server log. Writes LOGFILE.nz beside it (or into a temporary folder).
"""

import os
import sys
import tempfile

import neuralzip


def sample_log(lines: int = 300) -> bytes:
    paths = ["/", "/index.html", "/about", "/api/v1/items", "/static/app.js"]
    return b"".join(
        f'10.0.{i % 7}.{i % 251} - - [27/Nov/2026:10:{i // 60 % 60:02d}:{i % 60:02d} +0000] '
        f'"GET {paths[i % len(paths)]} HTTP/1.1" {200 if i % 13 else 404} {512 + 37 * i % 4000}\n'.encode()
        for i in range(lines))


def main(argv: list[str]) -> int:
    if argv:
        source, target = argv[0], argv[0] + ".nz"
        with open(source, "rb") as f:
            data = f.read()
    else:
        data, target = sample_log(), os.path.join(tempfile.mkdtemp(), "access.log.nz")
    # write in pieces, as a logger would; the stream is the same as compressing it in one go
    with neuralzip.open(target, "wb") as out:
        for start in range(0, len(data), 4096):
            out.write(data[start:start + 4096])
    # read back line by line
    with neuralzip.open(target, "rt", encoding="utf-8", errors="surrogateescape") as f:
        count = sum(1 for _ in f)
    size = os.path.getsize(target)
    print(f"{target}: {len(data)} -> {size} bytes ({8 * size / max(len(data), 1):.3f} bits/byte), {count} lines")
    with neuralzip.open(target) as f:
        assert f.read() == data, "round trip failed"
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
