"""Page forms: they parse and render; every rule is checked by the services (errors come back per field)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory

from cshub.capacity.models import ReportStatus, StaffRole
from cshub.capacity.schedule import Quarter, parse_quarter
from cshub.capacity.services import CapacityInput, ReportInput, StaffInput
from cshub.catalog.selectors import service_list
from cshub.core.forms import StyledFormMixin
from cshub.core.models import County

EXTRA_ROWS = 3


def _service_choices() -> list[tuple[str, str]]:
    return [("", "Choose…")] + [(s.key, s.name) for s in service_list()]


def _county_choices() -> list[tuple[str, str]]:
    return [("", "Choose…")] + [(c, c) for c in County.objects.values_list("name", flat=True)]


def quarter_choices(*, latest: Quarter, count: int = 8) -> list[tuple[str, str]]:
    choices, q = [], latest
    for _ in range(count):
        choices.append((q.key, f"{q.label} (due {q.due_date:%m/%d/%Y})"))
        q = q.previous()
    return choices


class NewReportForm(StyledFormMixin, forms.Form):
    plan = forms.ChoiceField(label="Plan")
    quarter = forms.ChoiceField(label="Quarter reported")

    def __init__(self, *args: Any, plans: Any, quarters: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(str(p.uuid), p.name) for p in plans]
        self.fields["quarter"].choices = quarters


class ReportHeaderForm(StyledFormMixin, forms.Form):
    current_caseload = forms.CharField(
        label="Current caseload (members)",
        required=False,
        help_text="Distinct members served at quarter end, all services.",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StaffForm(StyledFormMixin, forms.Form):
    role = forms.ChoiceField(label="Role", required=False)
    role_detail = forms.CharField(label="Title (for Other)", required=False, max_length=100)
    headcount = forms.CharField(
        label="People", required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    fte = forms.CharField(label="FTE", required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "Choose…"), *StaffRole.choices]

    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not any((data.get(f) or "").strip() for f in ("role", "role_detail", "headcount", "fte"))


class CapacityForm(StyledFormMixin, forms.Form):
    service = forms.ChoiceField(label="Community Support", required=False)
    county = forms.ChoiceField(label="County", required=False)
    members_able_to_serve = forms.CharField(
        label="Capacity (members able to serve)",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    members_serving = forms.CharField(
        label="Current caseload (members serving)",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(
        self, *args: Any, services: list[tuple[str, str]], counties: list[tuple[str, str]], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = services
        self.fields["county"].choices = counties

    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not any(
            (data.get(f) or "").strip()
            for f in ("service", "county", "members_able_to_serve", "members_serving")
        )


StaffFormSet = formset_factory(StaffForm, extra=EXTRA_ROWS, max_num=500, validate_max=True)
CapacityFormSet = formset_factory(CapacityForm, extra=EXTRA_ROWS, max_num=500, validate_max=True)


class ReportForms:
    """The header form and the two row tables of one report, with the rows they map to in the input."""

    def __init__(self, data: Any = None, *, initial: dict[str, Any] | None = None) -> None:
        initial = initial or {}
        choices = {"services": _service_choices(), "counties": _county_choices()}
        self.header = ReportHeaderForm(data, initial=initial.get("header"))
        self.staff = StaffFormSet(data, initial=initial.get("staff"), prefix="staff")
        self.capacity = CapacityFormSet(
            data, initial=initial.get("capacity"), prefix="capacity", form_kwargs=choices
        )
        self.staff_rows: list[int] = []
        self.capacity_rows: list[int] = []

    def is_valid(self) -> bool:
        return all([self.header.is_valid(), self.staff.is_valid(), self.capacity.is_valid()])

    def to_input(self) -> ReportInput:
        """Non-blank rows as the service's input (a row left blank is no row)."""
        staff, capacity = [], []
        for i, f in enumerate(self.staff.forms):
            if f.is_blank():
                continue
            self.staff_rows.append(i)
            staff.append(
                StaffInput(
                    **{k: f.cleaned_data.get(k) or "" for k in ("role", "role_detail", "headcount", "fte")}
                )
            )
        for i, f in enumerate(self.capacity.forms):
            if f.is_blank():
                continue
            self.capacity_rows.append(i)
            capacity.append(
                CapacityInput(
                    **{
                        k: f.cleaned_data.get(k) or ""
                        for k in ("service", "county", "members_able_to_serve", "members_serving")
                    }
                )
            )
        h = self.header.cleaned_data
        return ReportInput(
            current_caseload=h.get("current_caseload"),
            notes=h.get("notes") or "",
            staff=staff,
            capacity=capacity,
        )

    def add_errors(self, errors: list[Any]) -> list[Any]:
        """Put each service error beside its field; return those that belong to no field."""
        left = []
        for e in errors:
            name = e.field
            if name in self.header.fields:
                self.header.add_error(name, e.message)
                continue
            placed = False
            for prefix, formset, rows in (
                ("staff", self.staff, self.staff_rows),
                ("capacity", self.capacity, self.capacity_rows),
            ):
                if name.startswith(f"{prefix}[") and "]." in name:
                    index, _, field = name[len(prefix) + 1 :].partition("].")
                    if index.isdigit() and int(index) < len(rows) and field in formset.forms[0].fields:
                        formset.forms[rows[int(index)]].add_error(field, e.message)
                        placed = True
            if not placed:
                left.append(e)
        return left


def initial_from(report: Any) -> dict[str, Any]:
    return {
        "header": {"current_caseload": report.current_caseload, "notes": report.notes},
        "staff": [
            {"role": s.role, "role_detail": s.role_detail, "headcount": s.headcount, "fte": s.fte}
            for s in report.staff_lines.all()
        ],
        "capacity": [
            {
                "service": c.service.key,
                "county": c.county.name,
                "members_able_to_serve": c.members_able_to_serve,
                "members_serving": c.members_serving,
            }
            for c in report.capacity_lines.all()
        ],
    }


class ReportFilterForm(StyledFormMixin, forms.Form):
    quarter = forms.CharField(label="Quarter (YYYY-Qn)", required=False, max_length=10)
    provider = forms.ChoiceField(label="Provider", required=False)
    status = forms.ChoiceField(label="Status", required=False)
    late = forms.ChoiceField(
        label="Late", required=False, choices=[("", "All"), ("yes", "Submitted late"), ("no", "On time")]
    )

    def __init__(self, *args: Any, providers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [("", "All providers")] + [(str(p.uuid), p.name) for p in providers]
        self.fields["status"].choices = [("", "All"), *list(ReportStatus.choices)]

    def clean_quarter(self) -> Quarter | None:
        raw = self.cleaned_data.get("quarter") or ""
        if not raw.strip():
            return None
        quarter = parse_quarter(raw)
        if quarter is None:
            raise forms.ValidationError("Enter a quarter such as 2026-Q3.")
        return quarter


class MatrixFilterForm(StyledFormMixin, forms.Form):
    as_of = forms.CharField(label="As of quarter (YYYY-Qn)", required=False, max_length=10)
    county = forms.ChoiceField(label="County", required=False)
    service = forms.ChoiceField(label="Community Support", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = [("", "All counties"), *_county_choices()[1:]]
        self.fields["service"].choices = [("", "All services"), *_service_choices()[1:]]

    def clean_as_of(self) -> Quarter | None:
        raw = self.cleaned_data.get("as_of") or ""
        if not raw.strip():
            return None
        quarter = parse_quarter(raw)
        if quarter is None:
            raise forms.ValidationError("Enter a quarter such as 2026-Q3.")
        return quarter
