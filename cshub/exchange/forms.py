"""Forms only parse input for the services; the rules live in services.py."""

from __future__ import annotations

from typing import Any

from django import forms

from cshub.core.forms import StyledFormMixin
from cshub.exchange.models import ExchangeFile
from cshub.exchange.services import MAX_KEY_TEXT


class SshKeyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=100,
        help_text="who or what uses it, e.g. 'Billing system, nightly upload'",
    )
    public_key = forms.CharField(
        label="Public key",
        max_length=MAX_KEY_TEXT,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text="the one line of your .pub file, starting with ssh-ed25519, ecdsa-sha2-… or ssh-rsa",
    )


class ExchangeFileFilterForm(StyledFormMixin, forms.Form):
    """Filters of the exchange files page; the plan and organization choices are the user's own scope."""

    kind = forms.ChoiceField(label="File", required=False)
    plan = forms.ChoiceField(label="Plan", required=False)
    organization = forms.ChoiceField(label="Provider", required=False)
    produced_from = forms.DateField(
        label="Produced from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    produced_to = forms.DateField(
        label="Produced to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, plans: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "All"), *ExchangeFile.Kind.choices]
        self._plans = {str(p.uuid): p for p in plans}
        self._organizations = {str(o.uuid): o for o in organizations}
        self.fields["plan"].choices = [("", "All plans")] + [(k, p.name) for k, p in self._plans.items()]
        self.fields["organization"].choices = [("", "All providers")] + [
            (k, o.name) for k, o in self._organizations.items()
        ]

    def clean_plan(self) -> Any:
        return self._plans.get(self.cleaned_data.get("plan") or "")

    def clean_organization(self) -> Any:
        return self._organizations.get(self.cleaned_data.get("organization") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("produced_from"), data.get("produced_to")
        if start and end and end < start:
            self.add_error("produced_to", "The end is before the start.")
        return data


class CsprtfUploadForm(StyledFormMixin, forms.Form):
    """Rule D2: a provider sends its monthly CSPRTF from the web (the file it could put in SFTP inbox/)."""

    file = forms.FileField(
        label="CSPRTF file",
        help_text="the month's return file: '|'-separated text, UTF-8, with the header row (see the layout)",
    )
