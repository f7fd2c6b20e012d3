"""Catalog reads: code + modifier identity, authorization kinds, limits, documents (G1, G2, A6, A8, C1)."""

from __future__ import annotations

import pytest
from django.http import Http404

from cshub.catalog import selectors
from cshub.catalog.models import Confidence, Service

pytestmark = pytest.mark.usefixtures("loaded_catalog")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hcpcs", "modifier", "key"),
    [
        ("H0043", "U6", "housing_transition_navigation"),
        ("H0043", "U3", "short_term_post_hospitalization_housing"),
        ("H0043", "U2", "transitional_rent"),
        ("S5165", "U6", "environmental_accessibility_adaptations"),
        ("S5165", "U5", "asthma_remediation"),
        ("T2038", "U4", "nf_transition_diversion_alf"),
        ("T2038", "U5", "community_transition_nf_to_home"),
        ("h0044", " u2 ", "housing_deposits"),
    ],
)
def test_c1_code_and_modifier_together_identify_the_service(hcpcs, modifier, key):
    """Rule C1: services are billed with DHCS code AND modifier; the same code means different services."""
    assert selectors.service_for_code(hcpcs, modifier).key == key


@pytest.mark.django_db
def test_c1_unknown_pairs_are_not_community_supports():
    assert selectors.service_for_code("H0043", "U9") is None
    assert selectors.service_for_code("99213", "") is None


@pytest.mark.django_db
def test_c1_codes_for_service():
    deposits = selectors.service_get("housing_deposits")
    assert [c.code for c in selectors.codes_for_service(deposits)] == ["H0044-U2"]
    assert [c.service.key for c in selectors.code_search(hcpcs="h0043")] == [
        "transitional_rent",
        "short_term_post_hospitalization_housing",
        "housing_transition_navigation",
    ]


@pytest.mark.django_db
def test_g2_presumptive_and_not_required_services():
    """Rule G2: for some services authorization is presumptive or not required."""
    by_kind: dict[str, set[str]] = {}
    for service in Service.objects.all():
        by_kind.setdefault(service.authorization, set()).add(service.key)
    assert by_kind["presumptive"] == {"recuperative_care", "short_term_post_hospitalization_housing"}
    assert by_kind["not_required"] == {"sobering_centers"}
    assert len(by_kind["required"]) == 12
    sobering = Service.objects.get(key="sobering_centers")
    assert sobering.authorization_plan_choice
    assert (sobering.initial_auth_unit, sobering.reauth_unit) == ("none", "none")


@pytest.mark.django_db
def test_a8_the_urgent_examples_are_urgent_by_default():
    """Rule A8: recuperative care, housing navigation and housing deposits are the urgent examples."""
    urgent = set(Service.objects.filter(urgent_by_default=True).values_list("key", flat=True))
    assert urgent == {"recuperative_care", "housing_transition_navigation", "housing_deposits"}
    for key in urgent:
        note = Service.objects.get(key=key).source_notes["urgent_by_default"]
        assert (note["source"], note["confidence"]) == ("reference_guide", "documented")


@pytest.mark.django_db
def test_a6_documents_for_initial_and_extended_authorizations():
    """Rule A6: supporting documentation per service, for initial and extended authorizations."""
    for service in Service.objects.exclude(authorization=Service.Authorization.NOT_REQUIRED):
        texts = [d["text"] for d in service.documents_initial]
        assert any("NPI" in t for t in texts), service.key
        if service.reauth_unit not in ("none", "one_time"):
            assert service.documents_reauthorization, service.key
    sobering = Service.objects.get(key="sobering_centers")
    assert sobering.documents_initial == [] and sobering.documents_reauthorization == []
    recuperative = Service.objects.get(key="recuperative_care")
    assert any("discharge plan" in d["text"] for d in recuperative.documents_initial)  # rule A5


@pytest.mark.django_db
def test_g1_combined_six_months_limit_spans_three_services():
    """policy_updates item 4: recuperative care, post-hospitalization housing and transitional rent share
    six months in a rolling 12."""
    recuperative = selectors.service_get("recuperative_care")
    combined = next(limit for limit in recuperative.limits.all() if limit.group)
    assert (combined.kind, combined.value, combined.window_days) == ("rolling_window_months", 6, 365)
    partners = selectors.shared_limit_partners(recuperative)
    assert sorted(s.key for s in partners[combined.group]) == [
        "short_term_post_hospitalization_housing",
        "transitional_rent",
    ]


@pytest.mark.django_db
def test_closed_loop_referral_does_not_apply_to_sobering_centers():
    """policy_updates item 1: CLR applies to every Community Support except Sobering Centers."""
    assert list(Service.objects.filter(closed_loop_referral=False).values_list("key", flat=True)) == [
        "sobering_centers"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("search", "key"),
    [
        ("Assisted Living Facility (ALF) Transitions", "nf_transition_diversion_alf"),
        ("community or home transition", "community_transition_nf_to_home"),
        ("medical respite", "recuperative_care"),
        ("S5165-U5", "asthma_remediation"),
    ],
)
def test_g1_renamed_services_are_found_by_old_and_new_names(search, key):
    """policy_updates item 3: old and renamed names both match."""
    assert [s.key for s in selectors.service_list(search=search)] == [key]


@pytest.mark.django_db
def test_g1_service_list_orders_and_filters():
    keys = [s.key for s in selectors.service_list()]
    assert keys[:4] == [
        "housing_transition_navigation",
        "housing_deposits",
        "housing_tenancy_sustaining",
        "transitional_rent",
    ]
    recuperative = [s.key for s in selectors.service_list(category="recuperative")]
    assert recuperative == [
        "recuperative_care",
        "short_term_post_hospitalization_housing",
        "respite_services",
        "sobering_centers",
    ]
    assert {s.key for s in selectors.service_list(search="H0043")} == {
        "housing_transition_navigation",
        "short_term_post_hospitalization_housing",
        "transitional_rent",
    }
    Service.objects.filter(key="respite_services").update(active=False)
    assert "respite_services" not in {s.key for s in selectors.service_list()}
    assert "respite_services" in {s.key for s in selectors.service_list(active_only=False)}


@pytest.mark.django_db
def test_g1_every_value_names_its_source_and_confidence():
    """Rule G1 / data README: every value shows its source; 'verify' and 'assumed' are marked."""
    confidences = set(Confidence.values)
    for service in Service.objects.prefetch_related("codes", "limits"):
        refs = list(service.source_notes.values()) + list(service.eligibility)
        refs += service.documents_initial + service.documents_reauthorization
        refs += [{"source": c.source, "confidence": c.confidence} for c in service.codes.all()]
        refs += [{"source": lim.source, "confidence": lim.confidence} for lim in service.limits.all()]
        for ref in refs:
            assert ref["confidence"] in confidences, (service.key, ref)
            assert ref["source"] in service.sources or ref["source"].startswith("setting:"), (
                service.key,
                ref,
            )
        for field in ("name", "description", "overview", "category", "authorization", "urgent_by_default",
                      "initial_authorization", "reauthorization", "closed_loop_referral"):  # fmt: skip
            assert field in service.source_notes, (service.key, field)


@pytest.mark.django_db
def test_g1_service_get_unknown_key_is_404():
    with pytest.raises(Http404):
        selectors.service_get("free_ice_cream")
