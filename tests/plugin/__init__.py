"""Installing a task from outside Studio the way a package does: a distribution on the path whose
metadata declares an entry point in the group `studio.tasks`."""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from studio.core.tasks import registry

MODULE = "studio_topic"


@contextmanager
def installed(folder: Path) -> Iterator[None]:
    """The topic task installed in `folder` (the module and its dist-info) while the block runs."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).with_name(f"{MODULE}.py"), folder / f"{MODULE}.py")
    info = folder / f"{MODULE}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {MODULE}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{registry.GROUP}]\ntopic = {MODULE}:TASK\n")
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    registry.reload()
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(MODULE, None)
        importlib.invalidate_caches()
        registry.reload()
