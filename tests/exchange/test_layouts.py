"""File layouts as data (DESIGN principle 1): the loader validates every layout file and names each
problem; fields parse and format their values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from cshub.exchange import layouts
from cshub.exchange.apps import check_layout_files
from cshub.exchange.layouts import LayoutFileError, load_layout, parse_layout

MINIMAL = {
    "key": "demo",
    "title": "Demo",
    "rule": "D2",
    "direction": "provider_to_plan",
    "file_name": "DEMO_{provider_npi}_{date:%Y%m%d}.txt",
    "file_name_regex": r"^DEMO_(?P<provider_npi>\d{10})_(?P<date>\d{8})\.txt$",
    "delimiter": "|",
    "encoding": "utf-8",
    "header": True,
    "date_format": "%Y%m%d",
    "independent_rows": True,
    "independent_rows_reason": "each row stands alone",
    "source": "assumed",
    "assumed": "everything",
    "fields": [
        {
            "name": "cin",
            "label": "CIN",
            "type": "string",
            "required": "yes",
            "max_length": 9,
            "maps_to": "member.cin",
            "source": "DHCS ECM RTF pattern",
            "description": "x",
        },
        {
            "name": "dos",
            "label": "Date",
            "type": "date",
            "required": "no",
            "maps_to": "x.y",
            "source": "assumed",
            "description": "x",
        },
        {
            "name": "units",
            "label": "Units",
            "type": "integer",
            "required": "conditional",
            "maps_to": "x.units",
            "source": "assumed",
            "description": "x",
        },
        {
            "name": "amount",
            "label": "Amount",
            "type": "decimal",
            "required": "no",
            "maps_to": "x.amount",
            "source": "assumed",
            "description": "x",
        },
        {
            "name": "status",
            "label": "Status",
            "type": "code",
            "required": "yes",
            "valid_values": ["A", "B"],
            "maps_to": "x.status",
            "source": "assumed",
            "description": "x",
        },
        {
            "name": "homeless",
            "label": "Homeless",
            "type": "flag",
            "required": "no",
            "maps_to": "member.is_homeless",
            "source": "assumed",
            "description": "x",
        },
    ],
}


def demo(**changes):
    raw = {**MINIMAL, **changes}
    return parse_layout(raw, Path("demo.toml"), key="demo")


def test_d1_csasf_layout_loads_and_every_field_maps_to_product_data():
    layout = load_layout("csasf")
    assert layout.key == "csasf" and layout.rule == "D1" and layout.direction == "plan_to_provider"
    assert layout.fields and all(f.maps_to and f.source and f.description for f in layout.fields)
    names = layout.names
    for needed in (
        "plan_code", "provider_npi", "member_cin", "service_name", "hcpcs_code", "hcpcs_modifier",
        "referral_date", "referral_source", "authorization_status", "authorization_number",
        "authorization_start_date", "authorization_end_date", "authorized_units", "production_date",
        "reporting_period", "member_phone",
    ):  # fmt: skip
        assert needed in names
    name = layout.file_name_for(plan_code="GS1", provider_npi="1234567890", date=dt.date(2026, 3, 15))
    assert name == "CSASF_GS1_1234567890_20260315.txt"
    parts = layout.match_file_name(name)
    assert parts == {"plan_code": "GS1", "provider_npi": "1234567890", "date": "20260315"}
    assert load_layout("csasf") is layout  # cached


def test_every_layout_file_passes_the_start_up_check():
    assert check_layout_files() == []


def test_start_up_check_names_the_bad_file(settings, tmp_path):
    (tmp_path / "demo.toml").write_text('key = "demo"\n', encoding="utf-8")
    settings.CSHUB_EXCHANGE_LAYOUT_DIR = tmp_path
    try:
        errors = check_layout_files()
        assert len(errors) == 1 and errors[0].id == "exchange.E001"
        assert "demo.toml" in errors[0].msg and "'title'" in errors[0].msg
    finally:
        layouts.load_layout.cache_clear()


def test_every_problem_is_named_with_its_field():
    bad_fields = [
        {**MINIMAL["fields"][0], "type": "text"},
        {**MINIMAL["fields"][4], "valid_values": []},
        {**MINIMAL["fields"][1], "maps_to": ""},
        {**MINIMAL["fields"][0], "label": "Other"},  # same name twice
        {**MINIMAL["fields"][3], "max_length": 0, "colour": "red"},
    ]
    with pytest.raises(LayoutFileError) as exc:
        demo(fields=bad_fields, delimiter="||", date_format="%Y", direction="sideways")
    message = str(exc.value)
    assert message.startswith("demo.toml: ")
    for expected in (
        "field 'cin': type 'text' is not one of",
        "field 'status': a code field needs valid_values",
        "field 'dos': 'maps_to' must be a non-empty string",
        "field 'cin': named twice",
        "field 'amount': max_length must be a positive whole number",
        "field 'amount': unknown key 'colour'",
        "delimiter must be one character",
        "date_format '%Y' does not read back",
        "direction 'sideways'",
    ):
        assert expected in message


def test_file_name_regex_must_match_the_names_the_pattern_makes():
    with pytest.raises(LayoutFileError, match="does not match a name file_name makes"):
        demo(file_name_regex=r"^OTHER_\d+\.txt$")


def test_fields_parse_cells_with_a_clear_error():
    layout = demo()
    values, errors = layout.parse_row(["91000001A", "20260131", "12", "10.50", "A", "y"])
    assert errors == {}
    assert values == {
        "cin": "91000001A",
        "dos": dt.date(2026, 1, 31),
        "units": 12,
        "amount": Decimal("10.50"),
        "status": "A",
        "homeless": True,
    }
    values, errors = layout.parse_row(["", "2026-01-31", "1.5", "ten", "C", "maybe"])
    assert errors == {
        "cin": "CIN is required.",
        "dos": "Date must be a date like 20260131 (got '2026-01-31').",
        "units": "Units must be a whole number (got '1.5').",
        "amount": "Amount must be a number (got 'ten').",
        "status": "Status must be one of A, B (got 'C').",
        "homeless": "Homeless must be Y or N (got 'maybe').",
    }
    _, errors = layout.parse_row(["91000001A1", "", "", "", "A"])
    assert errors["_row"] == "The row has 5 columns; the DEMO has 6."
    assert errors["cin"] == "CIN can be at most 9 characters (got 10)."


def test_fields_format_values():
    layout = demo()
    row = layout.format_row(
        {"cin": "91000001A", "dos": dt.date(2026, 2, 3), "units": 4, "amount": Decimal("1.5"), "homeless": 0}
    )
    assert row == ["91000001A", "20260203", "4", "1.5", "", "N"]
    with pytest.raises(ValueError):
        layout.field("status").format("Z", layout)
    with pytest.raises(ValueError):
        layout.field("dos").format(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), layout)


def test_row_formatter_writes_what_format_row_writes_with_constants_formatted_once():
    layout = demo()
    rows = [
        {"cin": "91000001A", "dos": dt.date(2026, 2, 3), "units": 4, "homeless": True, "status": "B"},
        {"cin": "9100000123456", "dos": None, "units": None, "amount": Decimal("2.50"), "homeless": False},
        {},
    ]
    fast = layout.row_formatter({"status": "A"})
    for row in rows:
        assert fast(row) == layout.format_row({**row, "status": "A"})
    with pytest.raises(ValueError):
        layout.row_formatter()({"status": "Z"})
    with pytest.raises(ValueError):
        layout.row_formatter()({"dos": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
