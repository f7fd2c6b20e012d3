from __future__ import annotations

from django import forms


class StyledFormMixin:
    """Bootstrap classes on every widget, so `{{ form }}` renders accessible, labelled fields."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


def apply_domain_errors(form: forms.Form, error: object) -> None:
    """Put a service's field errors beside the form's fields (unknown fields go to the top)."""
    for e in getattr(error, "errors", []):
        name = e.field if e.field in form.fields else None
        form.add_error(name, e.message)
    if not getattr(error, "errors", []):
        form.add_error(None, str(error))
