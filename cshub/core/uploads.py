"""Checks every uploaded document passes before it is stored (DESIGN principle 6): the type is judged by
the file's first bytes, not its name, and the size by a setting. One place, used by every app."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from cshub.core.errors import DomainError, FieldError

# Magic numbers of the document types the program exchanges (faxes are PDF or TIFF; signed forms are
# often photographed).
SIGNATURES: dict[str, tuple[tuple[bytes, ...], tuple[str, ...]]] = {
    "application/pdf": ((b"%PDF-",), (".pdf",)),
    "image/tiff": ((b"II*\x00", b"MM\x00*"), (".tif", ".tiff")),
    "image/png": ((b"\x89PNG\r\n\x1a\n",), (".png",)),
    "image/jpeg": ((b"\xff\xd8\xff",), (".jpg", ".jpeg")),
}
DOCUMENT_TYPES = frozenset(SIGNATURES)
FAX_TYPES = frozenset({"application/pdf", "image/tiff"})


@dataclass(frozen=True)
class CheckedUpload:
    file: UploadedFile
    name: str
    content_type: str
    size: int
    sha256: str


def max_upload_bytes() -> int:
    return int(settings.CSHUB_UPLOAD_MAX_BYTES)


def sniff_content_type(head: bytes) -> str | None:
    for content_type, (magics, _) in SIGNATURES.items():
        if any(head.startswith(m) for m in magics):
            return content_type
    return None


def check_upload(
    upload: UploadedFile | None,
    *,
    field: str,
    allowed: frozenset[str] = DOCUMENT_TYPES,
    required: bool = True,
) -> CheckedUpload | None:
    """The upload, checked; or a DomainError naming the field and what is wrong. Nothing is stored here."""
    if upload is None:
        if required:
            raise DomainError("A file is required.", errors=[FieldError(field, "Choose a file.", "required")])
        return None
    name = (upload.name or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    limit = max_upload_bytes()
    if upload.size == 0:
        raise DomainError("The file is empty.", errors=[FieldError(field, f"{name} is empty.", "empty")])
    if upload.size > limit:
        raise DomainError(
            "The file is too large.",
            errors=[
                FieldError(field, f"{name} is {upload.size:,} bytes; the limit is {limit:,}.", "too_large")
            ],
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_content_type(head)
    kinds = ", ".join(sorted({ext for t in allowed for ext in SIGNATURES[t][1]}))
    if content_type not in allowed:
        raise DomainError(
            "This kind of file is not accepted.",
            errors=[FieldError(field, f"{name} is not one of the accepted types ({kinds}).", "file_type")],
        )
    if not name.lower().endswith(SIGNATURES[content_type][1]):
        raise DomainError(
            "The file's name does not match its content.",
            errors=[
                FieldError(
                    field, f"{name} holds a {content_type} file; rename it or choose another.", "file_type"
                )
            ],
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(upload, name, content_type, upload.size, digest.hexdigest())
