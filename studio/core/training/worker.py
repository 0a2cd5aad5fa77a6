"""One process of a run of several, as accelerate's launcher starts it (see launch.py).

    python -m studio.core.training.worker RUN_DIR --workspace ROOT [--resume]

The main process connects back to the launching process: its events and outcome go there, and the
person's stop, pause and save come from there. The others only train.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.core.control import Control
from studio.core.runs import layout
from studio.core.system import device as devices
from studio.core.training import child, launch, processes
from studio.core.training import config as run_config
from studio.core.training.messages import Done, EventMessage, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studio.core.training.worker")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    from studio.core.training import engine

    config = run_config.load(args.run_dir / layout.CONFIG_FILE)
    processes.start(devices.pick_device(config.device))
    control = Control()
    listeners = []
    connection = None
    if processes.is_main():
        connection = launch.connect()
        child.obey(connection.recv, control)
        listeners.append(lambda event: connection.send(EventMessage(event)))
    ended = outcome(lambda: engine.launched(args.run_dir, root=args.workspace, resume=args.resume,
                                            listeners=listeners, control=control))
    if connection is not None:
        connection.send(ended)
        connection.close()
    return 0 if isinstance(ended, Done) else 1


if __name__ == "__main__":
    sys.exit(main())
