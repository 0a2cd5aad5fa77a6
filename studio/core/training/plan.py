"""What a training job will do, decided before any work starts: a new run, a resumed one, or this
process's part of a run of several processes.

Every check that a person's settings or folders can fail happens here, before a model or a folder is
made, so a refused job leaves nothing behind; `engine.execute` then carries out any plan the same way
(prepare, size the batch, fit a time budget, write the folder, train).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.errors import ConfigError, RunError
from studio.core.runs import integrity, layout, lock, reader
from studio.core.system import workspace
from studio.core.training import config as run_config
from studio.core.training import launch
from studio.core.training.config import RunConfig

# what a resumed run may change: how long and how it trains, never what it trains on
RESUME_CHANGEABLE = {"max_steps", "eval_every", "save_every", "keep_checkpoints", "log_every", "device",
                     "batch_size", "num_processes", "accelerate_config", "early_stopping"}


@dataclass
class Plan:
    config: RunConfig
    root: Path  # the workspace: runs and caches
    run_dir: Path | None  # None for a new run without --out: named once its settings are final
    resume: bool = False  # continue `checkpoint` (or, launched, the run's latest)
    checkpoint: tuple[int, Path] | None = None
    write_config: bool = True  # a resumed run rewrites config.toml only when a setting changed
    launches: bool = False  # start several processes (launch.py) instead of training here
    launched: bool = False  # this is one of those processes (worker.py): the launcher wrote the folder
    started: float = field(default_factory=time.monotonic)  # --minutes counts from here
    notes: list[str] = field(default_factory=list)  # what the plan found and did (a broken checkpoint set aside)

    @property
    def fresh(self) -> bool:
        """A new run: its folder, tokenizer and config are written by this job."""
        return not self.resume and not self.launched

    @property
    def own_tokenizer(self) -> Path | None:
        """The tokenizer the run saved, which a resumed run and every launched process use."""
        folder = self.run_dir / layout.TOKENIZER if self.run_dir is not None else None
        return folder if folder is not None and folder.is_dir() else None

    def check_folder(self) -> None:
        """Called holding the run folder's lock: a new run's folder is still empty (another process may have
        trained into it between the plan and the lock)."""
        if self.fresh and self.run_dir is not None and not joins(self.config, self.run_dir) and \
                lock.holds_files(self.run_dir):
            raise ConfigError(f"'{self.run_dir}' already exists and is not empty; choose a new --out, or continue "
                              "that run with --resume.")

    def folder(self) -> Path:
        """The run folder: the one given, or a new name from the final settings."""
        c = self.config
        return self.run_dir or layout.new_run_dir(workspace.runs_dir(self.root), c.model, c.task)


def new(config: RunConfig, root: Path | None = None, out: Path | None = None) -> Plan:
    """A new run. `out` is an explicit run folder; it must be empty (or the folder a first machine of a
    run of several has begun)."""
    started = time.monotonic()
    root = root or workspace.workspace()
    workspace.check_writable(root)
    c = run_config.validate(config)
    if out is not None and out.exists() and (not out.is_dir() or lock.holds_files(out)) and not joins(c, out):
        raise ConfigError(f"'{out}' already exists and is not empty; choose a new --out, or continue that "
                          "run with --resume.")
    return Plan(c, root, out, launches=launch.wanted(c), started=started)


def resume(run_dir: Path, overrides: dict[str, Any] | None = None, root: Path | None = None) -> Plan:
    """Continue `run_dir` from its latest complete checkpoint, with its saved config (a few settings, such
    as max_steps to train longer, may change)."""
    root = root or workspace.workspace()
    workspace.check_writable(root)
    run_dir = run_dir.expanduser()
    info = reader.read(run_dir, with_history=False)
    if info.status == "running":
        raise RunError(f"'{run_dir.name}' is still training in another process; stop it before resuming.")
    saved = run_config.load_saved(run_dir / layout.CONFIG_FILE)
    changed = {k for k, v in (overrides or {}).items() if saved.get(k) != v}
    if changed - RESUME_CHANGEABLE:
        names = ", ".join(sorted(changed - RESUME_CHANGEABLE))
        raise ConfigError(f"A resumed run keeps its data, model and tokenizer; {names} cannot change. Start a "
                          "new run instead.")
    c = run_config.validate(run_config.from_dict(overrides or {}, saved))
    exported = info.model_dir is not None
    if not layout.checkpoints(run_dir) and (info.status == "completed" or exported):
        # retraining from step 0 would replace the finished run's history and model
        raise RunError(f"'{run_dir.name}' has finished and has no checkpoint to continue from; train its model "
                       f"further as a new run with --model {run_dir}.")
    latest, notes = integrity.newest_whole(run_dir)
    if latest is None and notes:
        raise RunError(f"Every checkpoint of '{run_dir.name}' is broken (moved to {integrity.BROKEN}/); start the "
                       "run again.")
    if latest and latest[0] >= c.max_steps and exported:
        raise RunError(f"'{run_dir.name}' has already trained all {c.max_steps} steps; pass a larger "
                       "--max-steps to train it further.")
    # a run that trained all its steps but whose model was never written (killed while saving it) resumes at
    # its last step: nothing more trains, and the model is written from that checkpoint
    return Plan(c, root, run_dir, resume=True, checkpoint=latest, write_config=bool(changed),
                launches=launch.wanted(c), notes=notes)


def launched(run_dir: Path, root: Path, resume: bool) -> Plan:
    """This process's part of a run of several: the launching process has checked the config and written
    it to the run folder (a resumed run's with the changes it was given)."""
    c = run_config.load_saved(run_dir / layout.CONFIG_FILE)
    return Plan(c, root, run_dir, resume=resume, checkpoint=layout.latest_checkpoint(run_dir) if resume else None,
                write_config=False, launched=True)


def joins(c: RunConfig, out: Path) -> bool:
    """Whether this is another machine joining a run of several machines that the first one has begun in
    `out` (shared storage): same config, nothing trained yet."""
    config = out / layout.CONFIG_FILE
    return (bool(c.accelerate_config) and config.is_file() and not (out / layout.METRICS_FILE).exists()
            and config.read_text(encoding="utf-8") == run_config.dumps(c))
