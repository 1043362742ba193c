"""Uploaded files kept in the database for a background job: read in chunks from the upload
(never whole in memory, but for an .xlsx), hashed on the way, stored gzip-compressed, and
read back as a stream. A bank statement or a registry CSV is text that repeats itself: a
99 MB CSV is stored in about a tenth of that.

An .xlsx (a zip archive, deflated already) is stored as it is. What was stored is told by its
first bytes: gzip's magic (1f 8b) never begins a CSV, an MT940 text or a zip archive, so
files stored raw before compression came in are read back as they are."""

import gzip
import hashlib
import io
from dataclasses import dataclass
from typing import IO

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Packed:
    """A file as it is stored: `data` (compressed unless it was a zip archive), the size and
    SHA-256 of the file itself."""

    data: bytes
    size: int
    sha256: str
    compressed: bool


def file_pack(file: IO[bytes], *, max_bytes: int) -> Packed:
    """`file` (binary, seekable; left at its start) packed for storage. Reading stops past
    `max_bytes`: a `size` above it means the file is too large (and `data` is incomplete)."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    if file.read(len(ZIP_MAGIC)) == ZIP_MAGIC:
        file.seek(0)
        data = file.read(max_bytes + 1)
        digest.update(data)
        file.seek(0)
        return Packed(data, len(data), digest.hexdigest(), compressed=False)
    file.seek(0)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as packed:
        for chunk in iter(lambda: file.read(CHUNK), b""):
            size += len(chunk)
            if size > max_bytes:
                break
            digest.update(chunk)
            packed.write(chunk)
    file.seek(0)
    return Packed(out.getvalue(), size, digest.hexdigest(), compressed=True)


def file_unpack(data: bytes | memoryview) -> IO[bytes]:
    """The stored file as a binary stream (decompressed as it is read)."""
    stream = io.BytesIO(data)
    if bytes(data[:2]) == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")
    return stream
