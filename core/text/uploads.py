"""The limits every uploaded file passes before it is read: its size, and for the Office formats
(.xlsx, .docx: zip archives) the size its contents unpack to, so a small zip bomb cannot fill the
memory of the reader behind it. The knowledge base's import (core/kb/ingest.py) and the writer's
batch upload (core/writer/batch.py) both check here.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

ZIP_EXTENSIONS = {".xlsx", ".docx"}  # zip archives: their unpacked size is limited too (zip bombs)
UNZIPPED_PER_BYTE = 20  # an Office file unpacks to at most this many times the upload limit
ZIP_MAX_MEMBERS = 10_000


class UploadRefused(ValueError):
    """The file is too large, or unpacks to too much: the message names it and says which limit."""


def check_upload(name: str, data: bytes, max_bytes: int) -> None:
    """Refuse a file over `max_bytes`, and an .xlsx/.docx whose contents would unpack to more than
    UNZIPPED_PER_BYTE times that (or that holds more than ZIP_MAX_MEMBERS parts)."""
    if len(data) > max_bytes:
        raise UploadRefused(f"{name}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    if PurePath(name).suffix.lower() in ZIP_EXTENSIONS:
        check_zip(name, data, max_bytes * UNZIPPED_PER_BYTE)


def check_zip(name: str, data: bytes, max_unzipped: int) -> None:
    """Refuse a zip archive whose contents would unpack to more than max_unzipped bytes. Python's
    zipfile never reads a member past its declared size, so the declared sizes are what count."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a zip at all: the Excel/Word reader says what is wrong with it
    if len(members) > ZIP_MAX_MEMBERS:
        raise UploadRefused(f"{name}: the file holds {len(members)} parts; that is not an ordinary Office file")
    unzipped = sum(m.file_size for m in members)
    if unzipped > max_unzipped:
        raise UploadRefused(
            f"{name}: unpacks to {unzipped / 1e6:.0f} MB, over the {max_unzipped / 1e6:.0f} MB limit "
            "for the contents of a file"
        )
