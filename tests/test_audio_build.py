"""Loudness of a real build: every chapter and the whole guide at the target, under the true-peak ceiling, measured by
ffmpeg's EBU R128 meter. Apart from tests/test_audio.py, which the mutation group `audio` runs: this build costs
~8 s a surviving mutant, and the same levelling is measured there on speech without a build."""

import pytest

from audioguide.audio import measure_loudness

from conftest import needs_tools

pytestmark = [needs_tools]
WINDOW_LU = 0.5  # as in tests/test_audio.py


def test_chapters_and_whole_guide_are_at_the_target_loudness(mini_build):
    m = mini_build.manifest
    target = mini_build.settings.loudness_lufs
    for f in [c["mp3"] for c in m["chapters"]] + [m["whole"]["mp3"]]:
        lufs, tp = measure_loudness(mini_build.out_dir / f, true_peak=True)
        assert lufs == pytest.approx(target, abs=WINDOW_LU), (f, lufs)
        assert tp is not None and tp <= -1.0, (f, tp)
