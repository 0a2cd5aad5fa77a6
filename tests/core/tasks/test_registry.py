"""The registry answers the questions asked of all tasks: by name, by sample, by model, by data."""

from __future__ import annotations

import datasets
import pytest
from transformers import AutoConfig, BartConfig, BertConfig, GPT2Config

from studio.core.errors import ConfigError, ModelError
from studio.core.tasks import registry
from studio.core.tasks.loaded import load
from studio.core.training import config
from studio.core.training.config import RunConfig


def test_every_task_declares_what_the_rest_of_studio_asks():
    names = set(config.known_names())
    for task in registry.all_tasks():
        assert registry.get(task.name) is task
        assert all(c.field in names for c in task.columns), "each column role is a setting of a run"
        assert all(s.name in names for s in task.settings), "each task setting is a setting of a run"
        assert registry.for_sample(task.default_data) is not None and task.default_data in task.samples
        assert task.headline and all(m.name.startswith("eval_") for m in task.headline)
        assert task.presets and RunConfig(task=task.name).resolved().model == task.default_preset
    with pytest.raises(ConfigError, match="Unknown task 'nope'; choose one of lm, chat, prefer, summarize, translate, classify, mlm"):
        registry.get("nope")


def test_a_model_knows_its_task_from_its_architecture_or_run():
    gpt = GPT2Config(architectures=["GPT2LMHeadModel"])
    assert registry.for_model(gpt).name == "lm"
    assert registry.for_model(GPT2Config(architectures=["GPT2ForSequenceClassification"])).name == "classify"
    assert registry.for_model(BertConfig(architectures=["BertForSequenceClassification"])).name == "classify"
    assert registry.for_model(BartConfig(architectures=["BartForConditionalGeneration"])).name == "summarize"
    assert registry.for_model(BartConfig(architectures=["BartForSequenceClassification"])).name == "classify"
    assert registry.for_model(gpt, "classify").name == "classify"  # the run's own word wins
    assert registry.for_model(AutoConfig.for_model("gpt2")).name == "lm"  # no architectures: by shape
    assert registry.for_model(BertConfig(architectures=["BertForMaskedLM"])).name == "mlm"
    assert registry.for_model(BertConfig(architectures=["BertForTokenClassification"])).name == "tag"
    assert registry.for_model(GPT2Config(architectures=["GPT2ForTokenClassification"])).name == "tag"
    assert registry.for_model(BertConfig(architectures=["BertForQuestionAnswering"])).name == "qa"
    assert registry.for_model(BertConfig(architectures=["BertForPreTraining"])).name == "mlm"  # pretrained with NSP
    with pytest.raises(ModelError, match="cannot tell what this model \\(BertForMultipleChoice\\) is for"):
        registry.for_model(BertConfig(architectures=["BertForMultipleChoice"]))


def test_the_task_follows_the_data_columns():
    def suggest(**columns):
        task = registry.suggest(datasets.Dataset.from_dict({k: [v] for k, v in columns.items()}))
        return task.name if task else None

    assert suggest(text="a", label="x") == "classify"
    assert suggest(review="a", sentiment="pos") == "classify"
    assert suggest(article="a", highlights="h") == "summarize"
    assert suggest(text="a") == "lm"
    assert suggest(tokens=["a"], ner_tags=["O"]) == "tag"
    assert suggest(a="x", b="y") is None
    # a task is suggested when one of its shapes is whole: a chat's messages alone, or its prompt and response
    assert suggest(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]) == "chat"
    assert suggest(instruction="a", output="b") == "chat"
    assert suggest(prompt="p", chosen="a", rejected="b") == "prefer"


def test_a_command_refuses_a_model_of_another_output_kind(lm_run):
    loaded = load(str(lm_run))
    with pytest.raises(ModelError, match="language modelling model; it does not classify text. Use 'studio generate'"):
        registry.check_serves(registry.get("classify"), loaded)
    registry.check_serves(registry.get("lm"), loaded)
