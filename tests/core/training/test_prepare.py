"""Preparing a run: the data, the tokenizer (trained, or the run's own) and the model, in that order,
with a stop honoured between them and a model that cannot do the task refused before any data is read."""

from __future__ import annotations

import pytest
import torch
from transformers import BertConfig

from studio.core.control import Control
from studio.core.data.tokenizer import save_tokenizer
from studio.core.errors import Cancelled, ModelError
from studio.core.system import workspace
from studio.core.tasks import registry
from studio.core.training import config as run_config
from studio.core.training.config import RunConfig
from studio.core.training.events import Stage
from studio.core.training.prepare import check_model, prepare


def _config(lm_text, **changes) -> RunConfig:
    settings = dict(data=str(lm_text), vocab_size=300, seq_len=16, batch_size=4, max_steps=4, device="cpu")
    return run_config.validate(RunConfig(**{**settings, **changes}))


def _prepared(c, ws, **kw):
    stages = []
    made = prepare(c, workspace.cache_dir(ws), lambda e: isinstance(e, Stage) and stages.append(e.name), Control(), **kw)
    return made, stages


def test_data_then_tokenizer_then_model_then_tokens(lm_text, ws):
    made, stages = _prepared(_config(lm_text), ws)
    firsts = list(dict.fromkeys(stages))
    assert firsts[:3] == ["data", "tokenizer", "model"] and firsts[3:] in ([], ["tokenize"])  # tokens may be cached
    assert len(made.train) > 0 and len(made.validation) > 0
    assert made.stats["train_rows"] == len(made.train) and made.stats["validation_rows"] == len(made.validation)
    assert len(made.tokenizer) <= 300 and made.model.get_input_embeddings().num_embeddings >= len(made.tokenizer)
    again, _ = _prepared(_config(lm_text), ws)
    first = next(made.model.parameters())
    assert torch.equal(first, next(again.model.parameters()))  # the run's seed decides the initial weights


def test_a_run_keeps_its_own_tokenizer(lm_text, ws, tmp_path):
    made, _ = _prepared(_config(lm_text), ws)
    save_tokenizer(made.tokenizer, tmp_path / "tokenizer")
    reused, stages = _prepared(_config(lm_text, vocab_size=500), ws, tokenizer_dir=tmp_path / "tokenizer")
    assert "tokenizer" not in stages  # nothing trained or fetched
    assert reused.tokenizer.get_vocab() == made.tokenizer.get_vocab()


def test_a_stop_before_the_tokenizer_ends_the_preparation(lm_text, ws):
    control = Control()
    control.stop()
    stages = []
    with pytest.raises(Cancelled):
        prepare(_config(lm_text), workspace.cache_dir(ws), lambda e: stages.append(e.name), control)
    assert "model" not in stages and "tokenizer" not in stages


def test_a_model_of_another_shape_is_refused_before_any_data_is_read(tmp_path):
    BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
               intermediate_size=16).save_pretrained(tmp_path / "encoder")
    with pytest.raises(ModelError, match="cannot be trained for"):
        check_model(RunConfig(task="lm", model=str(tmp_path / "encoder"), data=str(tmp_path / "missing.txt")),
                    registry.get("lm"))
