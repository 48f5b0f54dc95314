"""The note Analytics and Compare show when quality scores of different metric versions meet."""

from __future__ import annotations

import pytest

from dashboard._metric_versions import metric_version_note


@pytest.mark.parametrize("counts", [{}, {3: 10}, {None: 500}, {3: 10, 2: 0}])
def test_no_note_when_every_score_is_current_or_none_carries_a_version(counts):
    assert metric_version_note(counts, current=3) is None


def test_mixed_versions_are_named_with_their_counts_newest_first():
    note = metric_version_note({1: 300, 3: 1_200, None: 40}, current=3)
    assert note.startswith("**Quality scores of 3 metric versions are mixed here**")
    assert "(1,200 by the current metric (v3), 300 by metric v1, 40 by no recorded version)" in note
    assert "prompt-improver rescore" in note


def test_scores_only_from_an_older_metric_are_called_out():
    note = metric_version_note({1: 25}, current=3)
    assert note.startswith("**Quality here is from an older metric:** 25 by metric v1 scored, not the current v3")
