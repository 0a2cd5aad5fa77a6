"""A run of several processes: started with accelerate's launcher, followed from the person's process.

The person's process (`studio train`, or the window's training child) has made the run folder and
written its config. It starts `accelerate launch ... -m studio.core.training.worker RUN_DIR` (torchrun
underneath: one process per GPU, gloo processes on a CPU, several machines through an accelerate
config file) and opens a local socket. The main training process connects to it, sends the same events
and outcome as a run in one process, and takes stop, pause, resume and save. So the progress bar and
the window's monitor follow a run of several processes without knowing it is one.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from studio.core.control import Control
from studio.core.errors import Cancelled, ConfigError, TrainingError
from studio.core.training.config import RunConfig
from studio.core.training.events import Listener as EventListener
from studio.core.training.messages import CancelledEarly, Command, Done, EventMessage, Failed, Lost, Outcome

CHANNEL = "STUDIO_CHANNEL"  # host:port of the launching process's socket
CHANNEL_KEY = "STUDIO_CHANNEL_KEY"  # its secret, so no other local program can steer or read the run
_POLL_S = 0.2
LOG = "launch.log"


def wanted(c: RunConfig) -> bool:
    """Whether `c` trains in several processes and this process is not already one of them."""
    return c.several_processes() and CHANNEL not in os.environ


def check(c: RunConfig, device: str) -> None:
    """Refuse, before anything starts, what the launcher would only fail at."""
    import torch

    if c.fsdp and not device.startswith("cuda"):
        raise ConfigError("--fsdp shards a model across GPUs and needs CUDA; on this machine use --num-processes "
                          "without --fsdp.")
    if device == "mps":
        raise ConfigError("Apple's MPS backend trains in one process; drop --num-processes.")
    gpus = torch.cuda.device_count() if device.startswith("cuda") else 0
    if gpus and not c.accelerate_config and c.num_processes > gpus:
        raise ConfigError(f"--num-processes {c.num_processes} asks for one process per GPU, but this machine has "
                          f"{gpus}; give at most {gpus}.")


def command(c: RunConfig, run_dir: Path, root: Path, device: str, resume: bool) -> list[str]:
    """The launcher's command line for `run_dir`."""
    launcher = [sys.executable, "-m", "accelerate.commands.launch"]
    if c.accelerate_config:
        launcher += ["--config_file", str(Path(c.accelerate_config).expanduser())]
        if c.num_processes > 1:
            launcher += ["--num_processes", str(c.num_processes)]
    else:
        threads = max(1, (os.cpu_count() or 1) // c.num_processes) if device == "cpu" else 1
        # every setting given, so the launcher warns about none; mixed precision comes from the run's
        # precision through Trainer, and --multi_gpu means torchrun, which also runs gloo processes on a
        # CPU (--cpu would look for MPI)
        launcher += ["--num_processes", str(c.num_processes), "--num_machines", "1", "--mixed_precision", "no",
                     "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
                     "--num_cpu_threads_per_process", str(threads)]
    if c.fsdp:
        launcher += ["--use_fsdp", "--fsdp_auto_wrap_policy", "TRANSFORMER_BASED_WRAP", "--fsdp_state_dict_type",
                     "FULL_STATE_DICT", "--fsdp_use_orig_params", "true"]
    elif not c.accelerate_config:
        launcher += ["--multi_gpu"]
    return launcher + ["-m", "studio.core.training.worker", str(run_dir), "--workspace", str(root)] + (
        ["--resume"] if resume else [])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(c: RunConfig, run_dir: Path, root: Path, device: str, emit: EventListener, control: Control, *,
        resume: bool) -> Any:
    """Launch the processes and relay until they end; the TrainResult the main one sent back."""
    key = os.urandom(32)
    with Listener(("127.0.0.1", 0), authkey=key) as listener:
        host, port = listener.address
        env = dict(os.environ, **{CHANNEL: f"{host}:{port}", CHANNEL_KEY: key.hex()})
        # its own session: a Ctrl-C in the terminal reaches this process only, which turns it into a stop
        # that every training process obeys at the same step (torchrun would kill them on SIGINT)
        # the launcher's and the processes' own output goes to a log: what the person needs comes through
        # the channel, and torchrun reports a process that ended with an error (a refused data file,
        # already told as a sentence) with a page of traceback
        with open(run_dir / LOG, "ab") as log:
            process = subprocess.Popen(command(c, run_dir, root, device, resume), env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=os.name == "posix")
        relay = _Relay(listener, key)
        try:
            ended = relay.follow(process, emit, control)
        except BaseException:
            _end(process)
            raise
        finally:
            relay.close()
    if isinstance(ended, Done):
        return ended.result
    if isinstance(ended, CancelledEarly):
        raise Cancelled(ended.message)
    if isinstance(ended, Failed):
        raise TrainingError(ended.message)
    raise ProcessesLost(f"The training processes ended without a result (exit code {process.returncode}); "
                        f"{run_dir / LOG} says why.")


class ProcessesLost(TrainingError):
    """The launched processes ended without telling how; their log in the run folder is all there is."""


def connect() -> Connection:
    """The main training process's end of the channel to the process that launched it."""
    host, port = os.environ[CHANNEL].rsplit(":", 1)
    return Client((host, int(port)), authkey=bytes.fromhex(os.environ[CHANNEL_KEY]))


class _Relay:
    """Events up from the main training process, commands down to it."""

    def __init__(self, listener: Listener, key: bytes) -> None:
        self._listener = listener
        self._key = key
        self._messages: queue.Queue = queue.Queue()
        self._connection: Connection | None = None
        self._closed = threading.Event()
        self._sent = {"stop": False, "pause": False}
        threading.Thread(target=self._serve, name="studio-relay", daemon=True).start()

    def _serve(self) -> None:
        try:
            connection = self._listener.accept()
        except OSError:
            return  # closed before a training process connected
        self._connection = connection
        while True:
            try:
                self._messages.put(connection.recv())
            except (EOFError, OSError):
                self._closed.set()
                return

    def follow(self, process: subprocess.Popen, emit: EventListener, control: Control) -> Outcome:
        ended: Outcome = Lost(None)
        while True:
            self._steer(control)
            try:
                message = self._messages.get(timeout=_POLL_S)
            except queue.Empty:
                if process.poll() is not None and (self._connection is None or self._closed.is_set()) \
                        and self._messages.empty():
                    process.wait()
                    return ended
                continue
            if isinstance(message, EventMessage):
                emit(message.event)
            else:
                ended = message

    def _steer(self, control: Control) -> None:
        """Send what changed in `control` since the last look; kept until the main process has connected."""
        if self._connection is None or self._closed.is_set():
            return
        try:
            if control.stopped and not self._sent["stop"]:
                self._connection.send(Command.STOP)
                self._sent["stop"] = True
            elif not control.stopped and control.paused != self._sent["pause"]:
                self._connection.send(Command.PAUSE if control.paused else Command.RESUME)
                self._sent["pause"] = control.paused
            if control.take_save_request():
                self._connection.send(Command.SAVE)
        except (OSError, ValueError):
            pass  # the training process has ended; its outcome is on the way or lost

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            return
        # no training process connected: closing the socket would not wake the thread blocked in accept(),
        # so connect once ourselves and let it end
        try:
            Client(self._listener.address, authkey=self._key).close()
        except OSError:
            pass


def _end(process: subprocess.Popen) -> None:
    """End the launcher and every training process (a second Ctrl-C, or the window quit while starting)."""
    if process.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.terminate()
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        if os.name == "posix":
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            process.kill()
