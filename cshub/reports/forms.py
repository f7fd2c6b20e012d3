"""Report forms: parse what the user picked (provider, plan, month; extract kind and years)."""

from __future__ import annotations

from typing import Any

from django import forms

from cshub.core import clock
from cshub.core.forms import StyledFormMixin
from cshub.reports.periods import Month
from cshub.reports.selectors import EXTRACT_KINDS

MONTH_HELP = "Year and month, e.g. 2026-10."


class UtilizationForm(StyledFormMixin, forms.Form):
    provider = forms.ChoiceField(label="Provider", required=False)
    plan = forms.ChoiceField(label="Plan", required=False)
    month = forms.CharField(
        label="Month", required=False, help_text=MONTH_HELP, widget=forms.TextInput(attrs={"type": "month"})
    )

    def __init__(self, *args: Any, providers: list[Any], plans: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [("", "Choose a provider")] + [
            (str(p.uuid), p.name) for p in providers
        ]
        self.fields["plan"].choices = [(str(p.uuid), p.name) for p in plans]

    def clean_month(self) -> Month:
        raw = self.cleaned_data.get("month") or ""
        if not raw:
            return Month.previous_of_today()
        month = Month.parse(raw)
        if month is None:
            raise forms.ValidationError("Enter a month as YYYY-MM, e.g. 2026-10.")
        if month > Month.of(clock.today()):
            raise forms.ValidationError("That month has not started yet.")
        return month


class ExtractForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label="Rows", choices=list(EXTRACT_KINDS.items()))
    from_year = forms.IntegerField(label="From year", min_value=2000)
    to_year = forms.IntegerField(label="To year", min_value=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("from_year"), data.get("to_year")
        this_year = clock.today().year
        if end is not None and end > this_year:
            self.add_error("to_year", f"The last year is {this_year}.")
        if start is not None and end is not None and end < start:
            self.add_error("to_year", "The last year is before the first.")
        if start is not None and end is not None and end - start > 9:
            self.add_error("to_year", "At most ten years at a time.")
        return data
