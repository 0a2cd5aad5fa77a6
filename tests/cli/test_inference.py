"""`studio generate`, `summarize`, `attention` and `tokenizer train`, and the core calls behind them."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from studio.cli import main
from studio.core.attention import extract as attention
from studio.core.control import Control
from studio.core.playground import generation
from studio.core.playground.sampling import Sampling
from studio.core.tasks import loaded as inference


def _json(capsys: pytest.CaptureFixture, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_generate_json_contract(lm_run, capsys):
    out = _json(capsys, ["generate", "--model", str(lm_run), "--prompt", "def ", "--max-new-tokens", "12",
                         "--seed", "3", "--json"])
    assert set(out) >= {"text", "tokens", "tokens_per_second"}
    assert 1 <= len(out["tokens"]) <= 12 and out["tokens_per_second"] > 0
    for token in out["tokens"]:
        assert set(token) >= {"text", "id", "logprob"} and token["logprob"] <= 0.0
    assert "".join(t["text"] for t in out["tokens"]) == out["text"]


def test_seed_reproduces_and_greedy_is_deterministic(lm_run, capsys):
    base = ["generate", "--model", str(lm_run), "--prompt", "def ", "--max-new-tokens", "10", "--json"]
    assert _json(capsys, base + ["--seed", "7"])["text"] == _json(capsys, base + ["--seed", "7"])["text"]
    greedy = _json(capsys, base + ["--greedy"])
    assert greedy == {**greedy, "text": _json(capsys, base + ["--greedy"])["text"]}
    # greedy picks the most likely token, so its first log-probability is the best the model offers
    loaded = inference.load(str(lm_run))
    first = loaded.tokenizer("def ", add_special_tokens=False)["input_ids"]
    import torch

    with torch.inference_mode():
        best = torch.log_softmax(loaded.model(input_ids=torch.tensor([first])).logits[0, -1], -1).max().item()
    assert greedy["tokens"][0]["logprob"] == pytest.approx(best, abs=1e-4)


def test_generate_streams_plain_text(lm_run, capsys):
    capsys.readouterr()
    assert main(["generate", "--model", str(lm_run), "--prompt", "def ", "--max-new-tokens", "8", "--greedy"]) == 0
    assert capsys.readouterr().out.startswith("def ")


def test_streaming_callback_and_stop(lm_run):
    loaded = inference.load(str(lm_run))
    seen: list[generation.Token] = []
    result = generation.generate(loaded, "def ", Sampling(max_new_tokens=20, greedy=True),
                                 on_token=seen.append)
    assert [t.id for t in seen] == [t.id for t in result.tokens]
    assert "".join(t.text for t in seen) == result.text
    control = Control()

    def stop_after_three(token: generation.Token) -> None:
        if len(stopped) == 2:
            control.stop()
        stopped.append(token)

    stopped: list[generation.Token] = []
    sampling = Sampling(max_new_tokens=50, greedy=True, min_new_tokens=50)
    result = generation.generate(loaded, "def ", sampling, on_token=stop_after_three, control=control)
    assert result.finish_reason == "stopped" and len(result.tokens) == len(stopped) == 3


def test_summarize_cli(sum_run, capsys):
    out = _json(capsys, ["summarize", "--model", str(sum_run), "--text", "def f(x, y):\n    return x + y",
                         "--num-beams", "2", "--max-new-tokens", "10", "--json"])
    assert isinstance(out["text"], str) and 1 <= len(out["tokens"]) <= 10
    capsys.readouterr()
    assert main(["summarize", "--model", str(sum_run), "--text", "def f(x):\n    return x", "--greedy",
                 "--num-beams", "1", "--max-new-tokens", "6"]) == 0
    assert capsys.readouterr().out.endswith("\n")


def test_attention_decoder_only(lm_run, tmp_path, capsys):
    path = tmp_path / "a.npz"
    assert main(["attention", "--model", str(lm_run), "--text", "def alpha(x):", "--out", str(path)]) == 0
    with np.load(path, allow_pickle=False) as npz:
        tokens, att = npz["tokens"], npz["attentions"]
        assert set(npz.files) == {"tokens", "attentions"}
    assert att.dtype == np.float32 and att.shape == (2, 4, len(tokens), len(tokens))
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-4)
    assert np.allclose(np.triu(att[0, 0], k=1), 0.0)  # causal: no token attends to the future


def test_attention_encoder_decoder(sum_run, tmp_path, capsys):
    path = tmp_path / "b.npz"
    assert main(["attention", "--model", str(sum_run), "--text", "def f(x):\n    return x", "--target",
                 "Return x.", "--out", str(path)]) == 0
    with np.load(path, allow_pickle=False) as npz:
        enc, dec = npz["encoder_tokens"], npz["decoder_tokens"]
        assert npz["encoder_attentions"].shape == (2, 4, len(enc), len(enc))
        assert npz["decoder_attentions"].shape == (2, 4, len(dec), len(dec))
        assert npz["cross_attentions"].shape == (2, 4, len(dec), len(enc))
        np.testing.assert_allclose(npz["cross_attentions"].sum(-1), 1.0, atol=1e-4)
    loaded = inference.load(str(sum_run), attn_implementation="eager")
    generated = attention.extract(loaded, "def f(x):\n    return x")  # no target: the model's own output
    assert generated.is_encoder_decoder and len(generated.decoder_tokens) >= 1


def test_attention_of_a_question_with_its_context_marks_both(qa_run, tmp_path):
    path = tmp_path / "qa.npz"
    assert main(["attention", "--model", str(qa_run), "--text", "What does f return?", "--context",
                 "def f(x):\n    return x", "--out", str(path)]) == 0
    back = attention.Attention.load_npz(path)
    assert back.turn_roles == ["question", "context"]
    (_, q_start, q_end), (_, c_start, c_end) = back.turns()
    assert q_start == 0 and q_end == c_start == back.tokens.index("[SEP]") + 1 and c_end == len(back.tokens)


def test_attention_needs_eager(lm_run):
    from studio.core.errors import ConfigError

    with pytest.raises(ConfigError, match="eager"):
        attention.extract(inference.load(str(lm_run), attn_implementation="sdpa"), "def f")


def test_tokenizer_train_cli(lm_text, ws, tmp_path):
    out = tmp_path / "tok"
    assert main(["tokenizer", "train", "--data", str(lm_text), "--vocab-size", "300", "--out", str(out)]) == 0
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(out))
    text = "def naïve_λ(x):  # ünïcode ✓"
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    assert len(tok) <= 300 and tok.pad_token == "<pad>" and tok.eos_token == "</s>"


def test_tokenizer_train_on_pairs_uses_both_columns(pairs_jsonl, ws, tmp_path):
    out = tmp_path / "tok2"
    assert main(["tokenizer", "train", "--data", str(pairs_jsonl), "--vocab-size", "300", "--out", str(out)]) == 0
    assert (out / "tokenizer.json").is_file()


def test_generation_runs_off_the_main_thread(lm_run):
    loaded = inference.load(str(lm_run))
    box: dict = {}
    worker = threading.Thread(target=lambda: box.update(r=generation.generate(
        loaded, "def ", Sampling(max_new_tokens=5, greedy=True))))
    worker.start()
    worker.join(60)
    assert box["r"].tokens


def test_a_run_without_its_final_model_says_which_checkpoint_answers(lm_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "training"
    shutil.copytree(lm_run, run, ignore=shutil.ignore_patterns("model"))  # as a run still training is
    capsys.readouterr()
    assert main(["generate", "--model", str(run), "--prompt", "def", "--max-new-tokens", "2", "--greedy"]) == 0
    assert "'training' has no final model yet; using its latest checkpoint, checkpoint-24." in capsys.readouterr().err
    assert main(["generate", "--model", str(lm_run), "--prompt", "def", "--max-new-tokens", "2", "--greedy"]) == 0
    assert "no final model" not in capsys.readouterr().err
