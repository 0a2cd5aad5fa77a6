"""Answers a person can watch improve: at every evaluation a run whose models write text answers a few
fixed prompts (greedy, short), and the answers are kept in the run store with their step.

The prompts are the person's (`--sample-prompts FILE`, one per line) or the task's own pick from the
validation rows, with the reference answer beside them where the data has one.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from studio.core.data.prompts import read_prompts
from studio.core.modeling.loaded import LoadedModel
from studio.core.runs.writer import RunStore
from studio.core.tasks.base import Request, Task
from studio.core.training.events import Listener, Samples, Status

COUNT = 4  # prompts taken from the validation rows
# greedy, so that a change in an answer is the model's, not the dice's; short, so evaluations stay quick;
# with a mild repetition penalty, because greedy decoding of a model still learning loops on one word
# (the default lm run answered 'the # The the # The ...' at step 600; with 1.2, code-shaped lines)
OPTIONS = {"greedy": True, "max_new_tokens": 32, "num_beams": 1, "repetition_penalty": 1.2}


def chosen(task: Task, path: str, rows: Any, columns: dict[str, str]) -> list[tuple[str, str]]:
    """(prompt, reference) pairs a run answers at each evaluation: the file's, else the task's pick."""
    if not task.writes_text:
        return []
    if path:
        return [(prompt, "") for prompt in read_prompts(path)]
    return task.sample_prompts(rows, columns, COUNT)


class SamplesCallback(TrainerCallback):
    """Answers the sample prompts after every evaluation, on the main process."""

    def __init__(self, store: RunStore, emit: Listener, task: Task, tokenizer: Any, prompts: list[tuple[str, str]],
                 device: str, settings: dict[str, Any]) -> None:
        self.store = store
        self.emit = emit
        self.task = task
        self.tokenizer = tokenizer
        self.prompts = prompts
        self.device = device
        self.settings = settings

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        model = kw.get("model")
        if model is None:
            return
        loaded = LoadedModel(model, self.tokenizer, self.task, self.device, "", self.settings)
        training = model.training
        model.eval()
        try:
            answers = [{"prompt": prompt, "reference": reference,
                        "output": self.task.output.summary(self.task.answer(loaded, Request(prompt, options=OPTIONS)))}
                       for prompt, reference in self.prompts]
        except Exception as exc:  # noqa: BLE001 - the samples must never end a training run
            self.emit(Status("running", f"Could not answer the sample prompts at step {state.global_step} "
                                        f"({type(exc).__name__}: {exc}); training goes on."))
            return
        finally:
            model.train(training)
        self.store.samples(state.global_step, answers)
        self.emit(Samples(state.global_step, answers))
