"""Which output folders a build may write in: refused before anything is written there."""

from __future__ import annotations

import logging
import os
import pwd
from pathlib import Path

from audioguide.exceptions import ConfigError
from audioguide.files import Ownership
from audioguide.i18n import _

log = logging.getLogger("audioguide.build")


def _homes() -> set[Path]:
    """The people's home folders (root's and uid 1000 up), not system accounts' (/var/www, /bin…)."""
    homes = {Path.home()}
    homes |= {Path(p.pw_dir) for p in pwd.getpwall() if p.pw_dir and (p.pw_uid == 0 or 1000 <= p.pw_uid < 60000)}
    return {h.resolve() for h in homes}


def check_out_dir(out: Path, guide_file: Path | None, cache_dir: Path) -> None:
    """Refuse output folders where a build would mix its files with the user's: the root, a home folder,
    the guide's own folder or one above it, or one holding the clip cache."""
    target = Path(os.path.abspath(out)).resolve()
    why = None
    if target.parent == target:
        why = _("it is the root of the file system")
    elif target in _homes() or target in Path.home().resolve().parents:
        why = _("it is a home folder")
    elif guide_file is not None:
        guide_dir = guide_file.resolve().parent
        if target == guide_dir or target in guide_dir.parents:
            why = _("it holds the guide itself ({file})").format(file=guide_file)
    if why is None:
        cache = Path(os.path.abspath(cache_dir)).resolve()
        if cache == target or target in cache.parents:
            why = _("it holds the clip cache ({folder})").format(folder=cache_dir)
    if why:
        raise ConfigError(_("Output folder {folder}: refused, because {why}.").format(folder=out, why=why),
                          cause=_("a build writes audio/, transcripts/, phone/… there and replaces what it wrote "
                                  "before, so it needs a folder of its own"),
                          fix=_("choose a new or empty folder with --out, e.g. --out output/<guide-id>"))


def refuse_foreign_files(owner: Ownership, allowed: bool) -> None:
    """A build needs a folder of its own: one that is new, empty, or holds only what earlier builds of this
    guide wrote and recorded. With --allow-foreign-files it shares the folder, and still never removes a
    file it did not write."""
    unknown, others = owner.foreign_files()
    if not (unknown or others):
        return
    listed = unknown + sorted(others)
    names = ", ".join(listed[:5]) + (_(" and {n} more").format(n=len(listed) - 5) if len(listed) > 5 else "")
    what = _("files that no audioguide build of this guide recorded")
    if others and not unknown:
        what = _("the build of another guide ({ids})").format(ids=", ".join(sorted(set(others.values()))))
    if allowed:
        log.warning(_("Output folder %s also holds %s (%s); they are left in place, except where this build "
                      "writes a file of the same name."), owner.root, what, names)
        return
    raise ConfigError(_("Output folder {folder} holds {what}: {names}.").format(folder=owner.root, what=what,
                                                                               names=names),
                      cause=_("a build replaces and removes the files it wrote there, so it only writes into a "
                              "folder of its own"),
                      fix=_("choose a new or empty --out folder; or, if the folder was made by an older "
                            "audioguide, delete it and build again; or pass --allow-foreign-files to build beside "
                            "those files (they are never removed, but files with the names the build writes are "
                            "replaced)"))
