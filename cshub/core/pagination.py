"""Pagination and CSV export for list pages, shared by every app."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse


def paginate(request: HttpRequest, queryset: QuerySet | Sequence[Any], per_page: int | None = None) -> Page:
    paginator = Paginator(queryset, per_page or settings.CSHUB_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Any], row_values: Callable[[Any], Sequence[Any]]
) -> StreamingHttpResponse:
    """Stream a CSV so an export of a large list never holds it all in memory."""
    writer = csv.writer(_Echo())

    def generate() -> Iterable[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(["" if v is None else v for v in row_values(row)])

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def list_context(
    request: HttpRequest, queryset: QuerySet | Sequence[Any], per_page: int | None = None
) -> dict[str, Any]:
    """page_obj plus the current filters as a query string, for the pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    encoded = params.urlencode()
    return {
        "page_obj": paginate(request, queryset, per_page),
        "querystring_without_page": f"{encoded}&" if encoded else "",
    }


class MappedRows:
    """A queryset whose rows become API dicts only for the page an API paginator slices (and `len` is one
    COUNT), so a list endpoint that shapes rows in Python never reads every row in scope."""

    def __init__(self, queryset: QuerySet, row: Callable[[Any], Any]) -> None:
        self.queryset = queryset
        self.row = row

    def __getitem__(self, index: slice | int) -> Any:
        if isinstance(index, slice):
            return [self.row(r) for r in self.queryset[index]]
        return self.row(self.queryset[index])

    def __len__(self) -> int:
        return self.queryset.count()
