"""837P files in (rule C3): validated with pyx12, answered with a 999 kept beside the original, accepted
claims stored and adjudicated, the same interchange twice changes nothing, malformed files store no claim."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cshub.claims.ingest import claim_file_ingest, inbox_handler
from cshub.claims.models import Claim, ClaimFile, ClaimSource, LineStatus, ReceiptChannel
from cshub.claims.x12.write837 import Batch837, BillingProvider837, ClaimOut837, LineOut837, write_837p
from cshub.core.errors import DomainError
from tests.claims.conftest import SERVICE_DAY, authorize

_icn = iter(range(100, 1_000_000))


def batch(clw, claims: list[ClaimOut837], *, payer="95567", npi=None) -> bytes:
    org = clw.provider_a
    text = write_837p(
        Batch837(
            sender_id="CLEARINGHOUSE1",
            receiver_id=payer,
            interchange_control_number=next(_icn),
            group_control_number=1,
            created_at=datetime(2026, 11, 20, 9, 30),
            usage="P",
            submitter_name="Clearinghouse One",
            submitter_contact_name="EDI Desk",
            submitter_phone="9165550123",
            receiver_name="Golden State Health Plan",
            billing_providers=[
                BillingProvider837(
                    npi=npi or org.npi,
                    name=org.name,
                    tax_id=org.tin,
                    address_line="1 Main St",
                    city="Sacramento",
                    state="CA",
                    zip_code="95814",
                    claims=claims,
                )
            ],
        )
    )
    return text.encode()


def claim_out(clw, pcn="PCN-1", member=None, units="2", charge="250.00", payer="95567", dx=("Z5901",)):
    member = member or clw.member_a
    code = clw.nav_code
    return ClaimOut837(
        patient_control_number=pcn,
        member_id=member.cin,
        member_last_name=member.last_name,
        member_first_name=member.first_name,
        member_date_of_birth=member.date_of_birth,
        member_sex="F",
        member_address_line="2 Elm St",
        member_city="Sacramento",
        member_zip="95814",
        payer_id=payer,
        payer_name="GOLDEN STATE",
        place_of_service="12",
        diagnosis_codes=list(dx),
        lines=[
            LineOut837(
                hcpcs=code.hcpcs,
                modifiers=[code.modifier],
                charge=Decimal(charge),
                units=Decimal(units),
                service_from=SERVICE_DAY,
                service_to=SERVICE_DAY,
            )
        ],
    )


def ingest(data: bytes, clw=None, channel=ReceiptChannel.UPLOAD):
    return claim_file_ingest(
        actor=clw.billing if clw else None,
        data=data,
        name="batch.837",
        channel=channel,
        submitter=clw.provider_a if clw else None,
    )


def test_c3_an_accepted_837p_is_stored_answered_with_a_999_and_adjudicated(clw):
    authorize(clw, units=10)
    cf = ingest(batch(clw, [claim_out(clw, "PCN-1"), claim_out(clw, "PCN-2", member=clw.member_b)]), clw)
    assert cf.ack_code == "A" and not cf.duplicate
    assert (cf.claim_count, cf.line_count) == (2, 2)
    with cf.ack_999.open("rb") as fh:
        ack = fh.read().decode()
    assert "AK9*A*1*1*1" in ack
    with cf.original.open("rb") as fh:
        assert fh.read().startswith(b"ISA")
    first, second = Claim.objects.filter(claim_file=cf).order_by("patient_control_number")
    assert first.source == ClaimSource.EDI_837P
    assert (first.billing_organization, first.member, first.diagnosis_codes) == (
        clw.provider_a,
        clw.member_a,
        ["Z59.01"],
    )
    line = first.lines.get()
    assert (line.hcpcs, line.modifiers, line.units, line.charge) == (
        clw.nav_code.hcpcs,
        [clw.nav_code.modifier],
        2,
        250,
    )
    assert line.status == LineStatus.PAID
    assert second.lines.get().reason_key == "authorization_missing"  # member B has no authorization


def test_c3_the_same_interchange_twice_changes_nothing(clw):
    authorize(clw)
    data = batch(clw, [claim_out(clw)])
    first = ingest(data, clw)
    again = ingest(data, clw)
    assert again.duplicate and again.pk == first.pk
    # The same ISA sender and control number with other bytes is the same interchange too.
    altered = data.replace(b"PCN-1", b"PCN-9")
    third = ingest(altered, clw)
    assert third.duplicate and "already received" in third.message
    assert (ClaimFile.objects.count(), Claim.objects.count()) == (1, 1)


def test_c3_a_malformed_file_is_rejected_naming_segment_and_element_and_stores_no_claim(clw):
    data = batch(clw, [claim_out(clw)]).replace(b"DMG*D8*19800517", b"DMG*D8*19801317")
    cf = ingest(data, clw)
    assert cf.ack_code == "R"
    assert cf.claim_count == 0 and Claim.objects.count() == 0
    problem = next(p for p in cf.problems if p["segment_id"] == "DMG")
    assert problem["segment_position"] > 1 and problem["element_position"] == 2
    with cf.ack_999.open("rb") as fh:
        ack = fh.read().decode()
    assert f"IK3*DMG*{problem['segment_position']}*" in ack and "IK4*2*" in ack and "IK5*R" in ack


def test_c3_claims_for_another_payer_or_with_bad_fields_are_refused_one_by_one(clw):
    authorize(clw)
    data = batch(
        clw,
        [
            claim_out(clw, "GOOD"),
            claim_out(clw, "OTHERPAYER", payer="12345"),
            claim_out(clw, "BADDX", dx=("Z999",)),
        ],
    )
    cf = ingest(data, clw)
    assert cf.claim_count == 1
    refused = {r["patient_control_number"]: r["errors"][0]["field"] for r in cf.refusals}
    assert refused == {"OTHERPAYER": "payer_id", "BADDX": "diagnosis_codes.0"}


def test_c3_a_provider_cannot_bill_under_another_providers_npi(clw):
    data = batch(clw, [claim_out(clw)], npi=clw.provider_b.npi)
    cf = ingest(data, clw)
    assert cf.claim_count == 0
    assert cf.refusals[0]["errors"][0]["code"] == "not_your_npi"


def test_c3_empty_file_is_refused_before_anything_is_kept(clw):
    with pytest.raises(DomainError):
        ingest(b"", clw)
    assert ClaimFile.objects.count() == 0


def test_c3_the_sftp_inbox_takes_x12_and_answers_with_the_999(clw):
    authorize(clw)
    outcome = inbox_handler(clw.provider_a, "drop.837", batch(clw, [claim_out(clw)]))
    ((name, ack),) = outcome.replies
    assert name == "drop.999" and b"AK9*A" in ack
    assert Claim.objects.get().channel == ReceiptChannel.SFTP
    assert inbox_handler(clw.provider_a, "notes.txt", b"hello") is None


def test_c3_every_truncation_of_a_good_file_is_answered_without_a_crash(clw):
    data = batch(clw, [claim_out(clw), claim_out(clw, "PCN-2")])
    cuts = sorted({i + 1 for i, b in enumerate(data) if b == ord("~")} | {1, 50, 105, 107, len(data) // 2})
    for cut in cuts[:-1]:
        cf = ingest(data[:cut])
        assert cf.ack_code == "R", cut
    assert Claim.objects.count() == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.binary(min_size=1, max_size=400))
def test_c3_random_bytes_never_crash_the_ingest(clw, noise):
    before = Claim.objects.count()
    try:
        cf = claim_file_ingest(actor=None, data=noise, name="noise.837", channel=ReceiptChannel.COMMAND)
    except DomainError:
        return
    assert cf.ack_code == "R" or cf.duplicate
    assert Claim.objects.count() == before


def test_c3_a_claim_whose_total_is_not_the_sum_of_its_lines_is_refused(clw):
    data = batch(clw, [claim_out(clw)]).replace(b"CLM*PCN-1*250*", b"CLM*PCN-1*260*")
    cf = ingest(data, clw)
    assert cf.claim_count == 0
    assert cf.refusals[0]["errors"][0]["field"] == "total_charge"
