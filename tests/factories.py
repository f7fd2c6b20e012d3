"""factory-boy factories shared by every app's tests."""

from __future__ import annotations

import datetime as dt

import factory

from cshub.accounts.models import Organization, User, UserRole
from cshub.accounts.roles import OrganizationKind
from cshub.core.validators import npi_with_check_digit
from cshub.members.models import CareRelationship, EcmAssignment, EligibilitySpan, Member


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = OrganizationKind.CS_PROVIDER
    name = factory.Sequence(lambda n: f"Organization {n}")
    npi = factory.Sequence(lambda n: npi_with_check_digit(f"1{n:08d}"))
    tin = factory.Sequence(lambda n: f"9{n:08d}")
    city = "Sacramento"
    zip_code = "95814"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            UserRole.objects.bulk_create([UserRole(user=self, role=r) for r in extracted])
            self._role_cache = None


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    cin = factory.Sequence(lambda n: f"{90000000 + n:08d}A")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = dt.date(1980, 5, 17)
    sex = "F"
    preferred_language = "en"
    city = "Sacramento"
    zip_code = "95814"


class EligibilitySpanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibilitySpan

    member = factory.SubFactory(MemberFactory)
    plan = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.PLAN)
    plan_member_id = factory.Sequence(lambda n: f"HN{n:09d}")
    start_date = dt.date(2025, 1, 1)
    end_date = None


class EcmAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EcmAssignment

    member = factory.SubFactory(MemberFactory)
    plan = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.PLAN)
    ecm_provider = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.ECM_PROVIDER)
    start_date = dt.date(2025, 1, 1)


class CareRelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareRelationship

    member = factory.SubFactory(MemberFactory)
    organization = factory.SubFactory(OrganizationFactory)
    reason = CareRelationship.Reason.OUTREACH_ASSIGNMENT
    source_id = factory.Sequence(lambda n: f"test-{n}")
    start_date = dt.date(2025, 6, 1)
