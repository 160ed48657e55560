"""One rate for all worker processes of an instance, counted in a file
(GCRA: *n* at once, then one every *t/n* seconds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from authserver.instance_rate import InstanceRate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_n_at_once_then_one_every_t_over_n_seconds(tmp_path: Path) -> None:
    clock = Clock()
    rate = InstanceRate("3/minute", tmp_path / "budget", clock=clock)
    for _ in range(3):
        assert rate.retry_after() == 0
        rate.failed()
    assert rate.retry_after() == 20
    clock.now += 19.5
    assert rate.retry_after() == 1  # rounded up, never 0 while it must wait
    clock.now += 0.5
    assert rate.retry_after() == 0
    rate.failed()
    assert rate.retry_after() == 20


def test_an_idle_rate_does_not_save_up_more_than_its_burst(tmp_path: Path) -> None:
    clock = Clock()
    rate = InstanceRate("1 per 2 seconds", tmp_path / "budget", clock=clock)
    rate.failed()
    clock.now += 3600
    rate.failed()
    assert rate.retry_after() == 2


def test_two_holders_of_the_file_share_one_count(tmp_path: Path) -> None:
    clock = Clock()
    one = InstanceRate("2/minute", tmp_path / "budget", clock=clock)
    other = InstanceRate("2/minute", tmp_path / "budget", clock=clock)
    one.failed()
    assert other.retry_after() == 0
    other.failed()
    assert one.retry_after() == 30
    one.close()
    other.close()


def test_another_process_counts_in_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "budget"
    counted = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from authserver.instance_rate import InstanceRate; "
            "InstanceRate('1/hour', sys.argv[1]).failed()",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert counted.stderr == ""
    assert InstanceRate("1/hour", path).retry_after() == 3600
    assert InstanceRate("1/hour", tmp_path / "another").retry_after() == 0


def test_take_counts_only_what_conforms(tmp_path: Path) -> None:
    """A check and a count in one step: of two takers, the second is refused
    and nothing of it is counted."""
    clock = Clock()
    rate = InstanceRate("2/minute", tmp_path / "budget", clock=clock)
    assert rate.take() is True
    assert rate.take() is True
    assert rate.take() is False
    assert rate.retry_after() == 30  # the refused take moved nothing
    clock.now += 30
    assert rate.take() is True
