"""How the console words times, durations and audit details."""

from __future__ import annotations

import pytest

from authserver.console.filters import detail_label, detail_value, duration


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "none"),
        (1, "1 second"),
        (60, "1 minute"),
        (300, "5 minutes"),
        (3600, "1 hour"),
        (5400, "1 hour 30 minutes"),
        (86400, "1 day"),
        (604800, "7 days"),
    ],
)
def test_durations_are_said_in_words(seconds: int, words: str) -> None:
    assert duration(seconds) == words


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("grace_period_seconds", "grace period"),
        ("revoke_tokens", "tokens revoked"),
        ("previous_expires_at", "previous secret valid until"),
        ("notification_emails", "notification e-mails"),
        ("access_token_lifetime", "access-token lifetime"),
        ("some_new_field", "some new field"),
        ("retry_after_seconds", "retry after"),
    ],
)
def test_detail_fields_are_named_as_a_person_says_them(key: str, label: str) -> None:
    assert detail_label(key) == label


def test_detail_values_are_readable() -> None:
    assert detail_value(3600, "grace_period_seconds") == "1 hour"
    assert detail_value(0, "grace_period_seconds") == "none"
    assert detail_value(None, "access_token_lifetime") == "the default"
    assert detail_value(False, "revoke_tokens") == "no"
    assert detail_value("not_client_administrator", "reason") == (
        "not an administrator of the client"
    )
    assert detail_value("client.rotate_secret", "operation") == "client rotate secret"
    assert (
        detail_value({"grace_period_seconds": [0, 3600]}, "changes")
        == "grace period: none → 1 hour"
    )
    assert (
        detail_value("2026-01-02T03:04:05+00:00", "previous_expires_at") == "2026-01-02 03:04 UTC"
    )
    assert detail_value("", "description") == "none"
