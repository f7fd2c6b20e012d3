"""The data files behind rule M2 documentation load and validate (DESIGN principle 1): every assessment
template under cshub/data/assessments/ and the SDOH Z code ranges; broken files are reported by field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cshub.core.errors import DomainError
from cshub.members import assessments, sdoh
from cshub.members.apps import check_documentation_files

REQUIRED_TEMPLATES = {
    "general",
    "housing_transition_navigation",
    "recuperative_care",
    "medically_tailored_meals",
}


def test_m2_every_assessment_template_loads_and_names_its_source():
    templates = assessments.read_templates()
    assert set(templates) >= REQUIRED_TEMPLATES
    files = {p.stem for p in assessments.TEMPLATES_DIR.glob("*.toml")}
    assert set(templates) == files
    for template in templates.values():
        assert template.source["title"] and template.source["confidence"] in assessments.CONFIDENCES
        assert template.version and template.questions
        for q in template.questions:
            assert q.type in assessments.QUESTION_TYPES
            assert bool(q.choices) == (q.type in ("choice", "multi_choice"))


def test_m2_template_services_exist_in_the_catalog_files():
    catalog = {p.stem for p in assessments.CATALOG_SERVICES_DIR.glob("*.toml")}
    templates = assessments.read_templates()
    assert templates.pop("general").service == ""
    assert all(t.service == t.key and t.service in catalog for t in templates.values())


def test_m2_service_without_a_template_falls_back_to_general():
    assert assessments.template_for_service("sobering_centers").key == "general"
    assert assessments.template_for_service(None).key == "general"
    assert assessments.template_for_service("recuperative_care").key == "recuperative_care"


@pytest.fixture
def templates_copy(tmp_path: Path) -> Path:
    target = tmp_path / "assessments"
    shutil.copytree(assessments.TEMPLATES_DIR, target)
    return target


def test_m2_broken_templates_are_reported_file_by_file(templates_copy):
    path = templates_copy / "recuperative_care.toml"
    text = path.read_text().replace('type = "multi_choice"', 'type = "checkboxes"', 1)
    path.write_text(text.replace('confidence = "assumed"', 'confidence = "sure"'))
    (templates_copy / "sobering_centers.toml").write_text('key = "sobering"\ntitle = "x"\n')
    (templates_copy / "general.toml").unlink()
    with pytest.raises(DomainError) as exc:
        assessments.read_templates(templates_copy)
    fields = {e.field for e in exc.value.errors}
    assert "recuperative_care.toml:questions[3].type" in fields
    assert "recuperative_care.toml:source.confidence" in fields
    assert {"sobering_centers.toml:key", "sobering_centers.toml:questions"} <= fields
    assert "general.toml" in fields


def test_m2_sdoh_ranges_file_names_its_source_and_covers_z55_to_z65():
    ranges = sdoh.read_ranges()
    assert "ICD-10-CM Official Guidelines" in ranges.source["title"]
    assert [(r.first, r.last) for r in ranges.ranges] == [("Z55", "Z65")]
    assert ranges.contains("Z59.01") and not ranges.contains("Z66")


def test_m2_sdoh_code_lookup_lists_billable_codes_with_descriptions():
    found = dict(sdoh.sdoh_code_search("homeless"))
    assert found["Z59.02"] == "Unsheltered homelessness"
    assert "Z59.0" not in found  # a category, not billable
    assert dict(sdoh.sdoh_code_search("z59.4"))["Z59.41"] == "Food insecurity"


def test_start_up_check_is_clean():
    assert check_documentation_files() == []
