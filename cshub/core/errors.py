"""One error shape (STYLE 8). Services raise these; the API turns them into RFC 9457 problem bodies with
field details, pages show them beside the fields, commands print them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str
    code: str = "invalid"
    row: int | None = None  # for files: 1-based data row number

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"field": self.field, "message": self.message, "code": self.code}
        if self.row is not None:
            data["row"] = self.row
        return data


@dataclass
class DomainError(Exception):
    """A rule refused the request; nothing was changed. `status` 422 for invalid input, 409 for conflicts."""

    message: str
    code: str = "invalid"
    errors: list[FieldError] = field(default_factory=list)
    status: int = 422

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        details = "; ".join(
            (f"row {e.row} " if e.row is not None else "") + f"{e.field}: {e.message}"
            for e in self.errors[:20]
        )
        return f"{self.message} ({details})"


class ConflictError(DomainError):
    """Someone else changed the record first (optimistic locking)."""

    def __init__(
        self, message: str = "This record was changed by someone else; reload and try again."
    ) -> None:
        super().__init__(message=message, code="conflict", status=409)


class PermissionDeniedError(DomainError):
    def __init__(self, message: str = "Your role does not allow this.") -> None:
        super().__init__(message=message, code="forbidden", status=403)
