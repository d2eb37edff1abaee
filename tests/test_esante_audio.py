"""The published e-santé audio, measured: every MP3 a listener can get meets the loudness and true-peak promise.

The fixture guide is too short to catch an encoder overshoot on one sharp sound in 53 minutes of speech
(05-teleexpertise measured -0.0 dBTP), so this builds the real guide once, with real espeak-ng and ffmpeg."""

import pytest

from audioguide.audio import measure_loudness

from conftest import needs_tools

pytestmark = [needs_tools, pytest.mark.e2e]


@pytest.fixture(scope="module")
def esante(esante_build):
    return esante_build


def test_every_published_mp3_is_at_most_minus_one_dbtp(esante):
    m = esante.manifest
    files = [esante.out_dir / c["mp3"] for c in m["chapters"]] + [esante.out_dir / m["whole"]["mp3"]]
    assert len(files) == len(list((esante.out_dir / "audio").glob("*.mp3"))) + 1
    measured = {f.name: measure_loudness(f, true_peak=True) for f in files}
    over = {n: tp for n, (_, tp) in measured.items() if tp is None or tp > -1.0}
    assert not over, f"true peak above -1 dBTP: {over}"
    loud = {n: lufs for n, (lufs, _) in measured.items() if not -16.5 <= lufs <= -15.5}
    assert not loud, f"loudness outside -16 ± 0.5 LUFS: {loud}"
