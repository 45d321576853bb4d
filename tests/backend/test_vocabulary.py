"""contracts.vocabulary: the one vocabulary of the backend and the actions (issue 11 §2)."""

from __future__ import annotations

import json
from pathlib import Path

from contracts import vocabulary as V

ROOT = Path(__file__).resolve().parents[2]


def test_enums_are_their_plain_values() -> None:
    for enum in (
        V.Role,
        V.RecordState,
        V.RecordKind,
        V.ChangeKind,
        V.ChangeTarget,
        V.MailingState,
        V.MailingReason,
    ):
        for member in enum:
            assert member.name == member.value
            assert f"{member}" == str(member) == member.value
            assert json.dumps({member: member}) == json.dumps({member.value: member.value})
            assert {member.value: 1}[member] == 1


def test_every_state_and_kind_has_its_label() -> None:
    assert set(V.STATE_LABELS) == set(V.STATE_STEPS) == set(V.RecordState)
    assert set(V.CHANGE_STATE_LABELS) == set(V.RecordState) - {"not_started", "type_chosen", "filled"}
    assert set(V.CHANGE_KINDS) == set(V.CHANGE_TARGET) == set(V.ChangeKind)
    assert set(V.MAILING_STATE_LABELS) == set(V.MailingState)
    assert set(V.MAILING_REASON_MESSAGES) == set(V.MailingReason)
    assert set(V.RECORD_NAMES) == {V.RecordKind.destination, V.RecordKind.archive}
    assert V.OPEN_CHANGE | V.DECIDED_CHANGE == set(V.CHANGE_STATE_LABELS)


def test_reason_message_names_the_date_when_too_early() -> None:
    assert V.mailing_reason_message(None) == V.MAILING_ELIGIBLE_MESSAGE
    assert "2026-10-09" in V.mailing_reason_message("too_early", "2026-10-09")
    assert (
        V.mailing_reason_message("not_confirmed") == V.MAILING_REASON_MESSAGES[V.MailingReason.not_confirmed]
    )
