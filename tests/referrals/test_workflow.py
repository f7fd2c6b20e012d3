"""The workflow file (DESIGN principles 1 and 3): one transition table, validated at start-up."""

from __future__ import annotations

import tomllib

import pytest

from cshub.core.reference import read_data_csv
from cshub.referrals.apps import check_workflow_file
from cshub.referrals.workflow import WORKFLOW_FILE, WorkflowFileError, parse_workflow, workflow


def _raw() -> dict:
    with WORKFLOW_FILE.open("rb") as fh:
        return tomllib.load(fh)


def test_the_shipped_workflow_is_valid_and_checked_at_start_up():
    assert check_workflow_file() == []
    wf = workflow()
    assert wf.outreach.window_days == 30 and wf.outreach.min_attempts == 5 and wf.outreach.min_modalities == 3


def test_r5_statuses_include_those_the_issue_and_the_data_sharing_document_name():
    labels = {s.label for s in workflow().statuses.values()}
    assert {
        "Pending",
        "Eligible",
        "Not eligible",
        "No longer interested",
        "Unable to reach",
        "Got help",
    } <= labels
    assert {"Accepted", "Closed"} <= labels


def test_every_status_maps_to_a_findhelp_status_and_a_gravity_task_status():
    rows = read_data_csv("referral_statuses.csv")
    findhelp = {r["findhelp_status"] for r in rows}
    gravity = {r["gravity_task_status"] for r in rows}
    for status in workflow().statuses.values():
        assert status.findhelp in findhelp, status.key
        assert status.gravity in gravity, status.key


def test_closed_statuses_are_terminal_and_report_a_loop_closure_reason():
    wf = workflow()
    for key in wf.closed_statuses:
        assert wf.next_statuses(key) == []
        assert wf.status(key).loop_closure


def test_unable_to_process_is_only_for_ecm_referrals():
    wf = workflow()
    assert "unable_to_process" not in wf.next_statuses("pending", kind="cs")
    assert "unable_to_process" in wf.next_statuses("pending", party="plan", kind="ecm")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda raw: raw["transitions"].append({"from": "pending", "to": "nowhere", "by": "plan"}),
            "unknown status",
        ),
        (
            lambda raw: raw["transitions"].append({"from": "got_help", "to": "pending", "by": "plan"}),
            "stays closed",
        ),
        (
            lambda raw: raw["transitions"].append({"from": "pending", "to": "accepted", "by": "plan"}),
            "listed twice",
        ),
        (
            lambda raw: raw["transitions"].append({"from": "pending", "to": "eligible", "by": "member"}),
            "`by`",
        ),
        (
            lambda raw: raw["transitions"].append(
                {"from": "pending", "to": "eligible", "by": "plan", "guard": "x"}
            ),
            "unknown guard",
        ),
        (lambda raw: raw["statuses"]["got_help"].pop("loop_closure"), "loop_closure"),
        (lambda raw: raw["statuses"].pop("pending"), "initial status"),
        (lambda raw: raw.pop("outreach"), "[outreach]"),
    ],
)
def test_a_broken_workflow_file_is_refused_with_where(mutate, message):
    raw = _raw()
    mutate(raw)
    with pytest.raises(WorkflowFileError) as exc:
        parse_workflow(raw, "referral_workflow.toml")
    assert message in str(exc.value)
    assert "referral_workflow.toml" in str(exc.value)
