import shutil
from pathlib import Path

import pytest

from audioguide.config import BuildSettings

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
ESANTE = ROOT / "guides" / "e-sante"


def have_tools() -> bool:
    return bool(shutil.which("espeak-ng") and shutil.which("ffmpeg") and shutil.which("ffprobe"))


needs_tools = pytest.mark.skipif(not have_tools(), reason="espeak-ng and ffmpeg are installed by script/bootstrap")


@pytest.fixture
def mini_guide(tmp_path) -> Path:
    """A writable copy of the small fixture guide."""
    dst = tmp_path / "mini"
    shutil.copytree(DATA / "mini", dst)
    return dst


def settings_for(tmp: Path, **kw) -> BuildSettings:
    kw = {"out_dir": tmp / "out", "cache_dir": tmp / "cache", "progress": False, **kw}
    s = BuildSettings(**kw)
    return s


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory):
    """One real build (espeak-ng + ffmpeg) of the fixture guide, shared by the read-back tests."""
    if not have_tools():
        pytest.skip("needs espeak-ng and ffmpeg")
    from audioguide.build import build

    tmp = tmp_path_factory.mktemp("mini-build")
    result = build(DATA / "mini", settings_for(tmp))
    return result
