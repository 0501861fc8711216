"""What a writing command does with an output that already exists (docs/robustness.md).

No command replaces a user's data unasked. :func:`check_output` runs before any work and
refuses an existing output unless the user passed ``--overwrite``, naming the path and
the flag; it also refuses a folder where a file goes (and the reverse) and a path whose
folder cannot be written. :func:`replacing` wraps the write of outputs that are not
written atomically (a model or report folder, a study's tables): the old version is
moved aside while the new one is written, deleted once it is complete and put back if
the write fails, so a failed overwrite leaves the old output as it was. Trace files need
no wrapper: paradec writes them atomically (``realmodel.trace.io``).

Standard library only: ``paradec simulate`` uses it without loading torch.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["check_output", "replacing"]


def check_output(path: str | Path, flag: str, *, overwrite: bool, folder: bool = False,
                 resume: bool = False,
                 inputs: Sequence[tuple[str, str | Path | None]] = ()) -> Path:
    """``path`` if the command may write it there; ValueError naming it otherwise.

    An existing file (for a ``folder`` output: a folder that is not empty) needs
    ``overwrite``; a folder where a file goes or a file where a folder goes is refused
    even then, and so are a path whose nearest existing folder is not writable and a
    path that is, or holds, one of ``inputs`` (``(flag, path)`` pairs; None is skipped).
    ``flag`` names the argument in the message; ``resume`` adds that ``--resume``
    continues the run that wrote it.
    """
    path = Path(path)
    for name, given in inputs:
        if given is not None and path.resolve() in (Path(given).resolve(),
                                                    *Path(given).resolve().parents):
            raise ValueError(f"{name} {given} would be overwritten by {flag} {path}: write "
                             "the output elsewhere")
    if path.exists() or path.is_symlink():
        if path.is_dir() != folder:
            raise ValueError(f"{flag} {path} exists and is not a {'folder' if folder else 'file'}")
        if not overwrite and not (folder and not any(path.iterdir())):
            hint = ", or --resume to continue the run that wrote it" if resume else ""
            raise ValueError(f"{flag} {path} already exists: pass --overwrite to replace "
                             f"it{hint}")
    where = path.absolute().parent
    while not where.exists():
        where = where.parent
    if not where.is_dir():
        raise ValueError(f"{flag} {path} cannot be written: {where} is a file, not a folder")
    if not os.access(where, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path} cannot be written: folder {where} is not writable")
    return path


@contextmanager
def replacing(*paths: str | Path) -> Iterator[None]:
    """Write new versions of ``paths`` (files or folders) in the ``with`` block.

    Each existing path is first renamed to a hidden sibling ``.NAME.replaced-PID``; when
    the block ends normally the old versions are deleted, and when it raises (Ctrl-C
    included) whatever the block wrote is removed and the old versions are renamed back.
    A process killed outright leaves the old version in its hidden sibling.
    """
    moved: list[tuple[Path, Path]] = []
    try:
        for p in map(Path, paths):
            if p.exists():
                old = p.with_name(f".{p.name}.replaced-{os.getpid()}")
                os.replace(p, old)
                moved.append((p, old))
        yield
    except BaseException:
        for p, old in moved:
            _remove(p)
            os.replace(old, p)
        raise
    for _, old in moved:
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
