"""The build: a guide in, an output folder out. Its stages, one module each:

- builder.py: the stages in order, one call each (lock -> early stop -> narrate -> synthesise -> chapters ->
  whole -> publish -> manifest);
- speaker.py: the guide's voice for prompts (phone, DAISY's title, `listen`);
- assembly.py: a chapter's clips laid out and timed (timing.py), the whole-guide MP3;
- manifest.py: manifest.json and the build state;
- folder.py: which output folders a build may use.
The publishers (publishers/) turn the result into files people use, through a BuildContext.
"""

from __future__ import annotations

from pathlib import Path

from audioguide.build.assembly import (
    ASSEMBLY_VERSION,
    CHAPTER_LEAD_MS,
    END_LEAD_MS,
    PAGE_LEAD_MS,
    TAIL_MS,
    write_addressed,
)
from audioguide.build.builder import Builder, BuildResult, choose_engine, make_speaker
from audioguide.build.folder import check_out_dir, refuse_foreign_files
from audioguide.build.manifest import FORMAT, STATE_FILE
from audioguide.config import BuildSettings
from audioguide.guide import load_guide
from audioguide.speaker import Speaker
from audioguide.tts import validate_settings

__all__ = ["ASSEMBLY_VERSION", "CHAPTER_LEAD_MS", "END_LEAD_MS", "FORMAT", "PAGE_LEAD_MS", "STATE_FILE", "TAIL_MS",
           "BuildResult", "Builder", "Speaker", "build", "check_out_dir", "choose_engine", "refuse_foreign_files",
           "make_speaker", "write_addressed"]


def build(guide_path: str | Path, settings: BuildSettings | None = None) -> BuildResult:
    settings = settings or BuildSettings()
    validate_settings(settings)
    guide = load_guide(guide_path)
    return Builder(guide, settings).run()
