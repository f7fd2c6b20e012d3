"""The people every test can use (STYLE 12, after healthchecks' alice/bob/charlie):

- `world.alice`: CEO of provider A (a D4 leadership role); `world.bob`: care coordinator at provider A;
- `world.charlie`: CEO of provider B, who must get 404 for everything of provider A;
- `world.plan_users[role]`: one user per plan role at plan 1; `world.other_plan_user`: an admin at plan 2;
- members: `world.member_a` on provider A's care team, `world.member_b` on provider B's;
  both eligible at plan 1;
  `world.member_plan2` eligible only at plan 2.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine

from cshub.accounts.roles import PLAN_ROLES, OrganizationKind, Role
from cshub.core import clock
from tests.factories import (
    CareRelationshipFactory,
    EligibilitySpanFactory,
    MemberFactory,
    OrganizationFactory,
    UserFactory,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that commits (transaction=True) must also restore the migration-loaded rows
    (serialized_rollback=True). Otherwise its flush re-creates the content types without the
    counties, and the next serialized test of the same worker fails on a duplicate content type
    (seen on PostgreSQL in CI)."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(
                f"{item.nodeid}: django_db(transaction=True) needs serialized_rollback=True as well"
            )


FROZEN_AT = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)  # 9:00 Pacific on a Monday


@pytest.fixture
def frozen_clock():
    """Freeze the one clock at a known Monday morning, Pacific."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        clock.reset_calendar_cache()
        yield traveller


@pytest.fixture
def world(db):
    plan = OrganizationFactory(kind=OrganizationKind.PLAN, name="Golden State Health Plan", plan_code="GS1")
    plan2 = OrganizationFactory(kind=OrganizationKind.PLAN, name="Sierra Coast Health", plan_code="SC2")
    provider_a = OrganizationFactory(name="Provider A Housing Services")
    provider_b = OrganizationFactory(name="Provider B Meals on Wheels")
    w = SimpleNamespace(plan=plan, plan2=plan2, provider_a=provider_a, provider_b=provider_b)
    w.alice = UserFactory(email="alice@a.example", organization=provider_a, roles=[Role.PROVIDER_CEO])
    w.bob = UserFactory(email="bob@a.example", organization=provider_a, roles=[Role.CARE_COORDINATOR])
    w.charlie = UserFactory(email="charlie@b.example", organization=provider_b, roles=[Role.PROVIDER_CEO])
    w.plan_users = {
        role: UserFactory(email=f"{role}@plan.example", organization=plan, roles=[role])
        for role in sorted(PLAN_ROLES)
    }
    w.other_plan_user = UserFactory(email="admin@plan2.example", organization=plan2, roles=[Role.PLAN_ADMIN])
    w.member_a = MemberFactory(last_name="Alvarez", first_name="Ana", cin="91000001A")
    w.member_b = MemberFactory(last_name="Baker", first_name="Ben", cin="91000002B")
    w.member_plan2 = MemberFactory(last_name="Chen", first_name="Cai", cin="91000003C")
    EligibilitySpanFactory(member=w.member_a, plan=plan, plan_member_id="GS0000001")
    EligibilitySpanFactory(member=w.member_b, plan=plan, plan_member_id="GS0000002")
    EligibilitySpanFactory(member=w.member_plan2, plan=plan2, plan_member_id="SC0000003")
    CareRelationshipFactory(member=w.member_a, organization=provider_a)
    CareRelationshipFactory(member=w.member_b, organization=provider_b)
    return w
