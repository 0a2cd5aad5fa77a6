"""Every common model family through every task it can do, from the command line: a tiny random checkpoint of
each (tests.architectures: the family's own tokenizer shape, special tokens, missing pad and chat template) is
trained a few steps, exported, loaded by the matching plain transformers pipeline, answered by the task's own
command (the Playground's call) and looked inside (attention). The tasks are those Studio says the family can
do (`Task.accepts`), so a family gains a test when a task starts accepting it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.attention import extract
from studio.core.tasks import loaded as inference
from studio.core.tasks import registry
from tests.architectures import FAMILIES, write_checkpoint
from tests.helpers import task_rows

_TEXT = "alpha beta sum total open read"
# the plain pipeline that serves each task's exported model; transformers 5 has none for summarization
_PIPELINES = {"text-generation": "text-generation", "text-classification": "text-classification",
              "token-classification": "token-classification", "fill-mask": "fill-mask"}


def _pairs() -> list[tuple[str, str]]:
    from transformers import AutoConfig

    found = []
    tasks_seen: set[str] = set()
    for name, family in FAMILIES.items():
        config = AutoConfig.for_model(family.model_type, **family.config)
        accepted = [task.name for task in registry.all_tasks() if task.accepts(config)]
        for task in accepted:
            # the quick suite: each family through its first task and its chat template (templates differ by
            # family), and each task through the first family that takes it; every other pair with the slow tests
            quick = task == accepted[0] or task == "chat" or task not in tasks_seen
            tasks_seen.add(task)
            found.append((name, task) if quick else pytest.param(name, task, marks=pytest.mark.slow))
    return found


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = write_checkpoint(name, tmp_path_factory.mktemp(name))
        return made[name]

    return get


def _plain(exported: Path, task: object) -> object:
    import transformers

    pipeline = _PIPELINES.get(task.pipeline_tag)
    if task.pipeline_tag == "question-answering":  # transformers 5 has no pipeline: the span logits by hand
        tok = transformers.AutoTokenizer.from_pretrained(exported)
        model = transformers.AutoModelForQuestionAnswering.from_pretrained(exported)
        return model(**tok("alpha?", _TEXT, return_tensors="pt")).start_logits.numel()
    if pipeline is None:  # a seq2seq model: what a pipeline would do, by hand
        tok = transformers.AutoTokenizer.from_pretrained(exported)
        model = transformers.AutoModelForSeq2SeqLM.from_pretrained(exported)
        return tok.decode(model.generate(**tok(_TEXT, return_tensors="pt"), max_new_tokens=4)[0])
    serve = transformers.pipeline(pipeline, model=str(exported), device="cpu")
    if pipeline == "fill-mask":
        return serve(f"alpha {serve.tokenizer.mask_token} sum")
    if pipeline == "text-generation":
        return serve(_TEXT, max_new_tokens=4, do_sample=False)
    return serve(_TEXT)


@pytest.mark.parametrize(("family", "name"), _pairs())
def test_a_family_trains_exports_serves_and_shows_attention_for_each_task(family, name, checkpoints, ws, tmp_path,
                                                                          capsys):
    task = registry.get(name)
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in task_rows(task, 40)))
    run, exported = tmp_path / "run", tmp_path / "exported"
    # a family without a chat template is given one, as a person chat-tuning a base model does
    own = {s.name for s in task.settings}
    template = [] if FAMILIES[family].chat_template or "chat_template" not in own else ["--chat-template", "chatml"]
    target = ["--target-len", "8"] if "target_len" in own else []
    assert main(["train", "--task", name, "--model", str(checkpoints(family)), "--data", str(data), "--out", str(run),
                 "--seq-len", "64", *target, "--batch-size", "4", "--max-steps", "2", "--eval-every",
                 "2", "--save-every", "2", "--validation-fraction", "0.2", "--device", "cpu", *template]) == 0, \
        capsys.readouterr().err
    assert main(["export", "--model", str(run), "--format", "hf", "--out", str(exported)]) == 0
    assert _plain(exported, task)

    capsys.readouterr()
    command = task.command
    pair = [command.pair_flag, _TEXT] if command.pair_flag else []
    assert main([command.name, "--model", str(run), command.text_flag, command.example, *pair, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)

    loaded = inference.load(str(run), attn_implementation="eager")
    assert loaded.task is task
    att = extract.extract(loaded, _TEXT)
    assert att.views() and all(weights.shape[0] >= 1 for weights, _, _ in att.views().values())
