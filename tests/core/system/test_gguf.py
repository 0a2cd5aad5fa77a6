"""A GGUF file is imported once into a model folder that gives the logits of the model it was written
from, and then serves like any model folder; files that cannot be imported are a sentence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.cli import main
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import ModelError
from studio.core.modeling import presets
from studio.core.runs import layout
from studio.core.system import gguf as gguf_import

TEXTS = ["def add(a, b):\n    return a + b\n" * 50, "class A:\n    pass\n" * 50]


def _permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """llama.cpp's order of the query and key rows (its rotary embedding pairs them differently)."""
    return weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(
        weights.shape)


def write_gguf(model, tokenizer, path) -> None:
    """What llama.cpp's converter writes for a Llama, in full precision, through the gguf package's names."""
    import gguf

    c = model.config
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(c.max_position_embeddings)
    writer.add_embedding_length(c.hidden_size)
    writer.add_block_count(c.num_hidden_layers)
    writer.add_feed_forward_length(c.intermediate_size)
    writer.add_head_count(c.num_attention_heads)
    writer.add_head_count_kv(c.num_key_value_heads)
    writer.add_rope_freq_base(float(c.rope_parameters["rope_theta"]))
    writer.add_layer_norm_rms_eps(c.rms_norm_eps)
    writer.add_vocab_size(c.vocab_size)
    writer.add_rope_dimension_count(c.hidden_size // c.num_attention_heads)
    tokens = [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])]
    special = set(tokenizer.all_special_tokens)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens])
    merges = json.loads(tokenizer.backend_tokenizer.to_str())["model"]["merges"]
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_chat_template(tokenizer.chat_template)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, c.num_hidden_layers)
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight" and c.tie_word_embeddings:
            continue
        data = tensor.float().numpy()
        if name.endswith("q_proj.weight"):
            data = _permute(data, c.num_attention_heads)
        if name.endswith("k_proj.weight"):
            data = _permute(data, c.num_key_value_heads)
        writer.add_tensor(names.get_name(name, try_suffixes=(".weight", ".bias")), data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    tokenizer = train_bpe(TEXTS, 300, family="llama")
    torch.manual_seed(0)
    model = presets.build("llama-tiny", tokenizer, "AutoModelForCausalLM").eval()
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf"
    write_gguf(model, tokenizer, path)
    return path, model, tokenizer


def test_the_imported_folder_gives_the_same_logits_and_is_imported_once(tiny_gguf, ws):
    path, model, tokenizer = tiny_gguf
    folder = gguf_import.imported(path, ws)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    back = AutoModelForCausalLM.from_pretrained(folder).eval()
    ids = tokenizer("def add(a, b):", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, back(ids).logits, atol=1e-5)
    again = AutoTokenizer.from_pretrained(folder)
    assert again("def add(a, b):")["input_ids"] == ids[0].tolist()
    assert again.chat_template == tokenizer.chat_template  # the template travels with the file
    made = (folder / "config.json").stat().st_mtime_ns
    assert gguf_import.imported(path, ws) == folder and (folder / "config.json").stat().st_mtime_ns == made


def test_a_gguf_file_is_a_model_for_every_command(tiny_gguf, ws, lm_text, tmp_path, capsys):
    path, _, _ = tiny_gguf
    assert layout.model_source(str(path)) == str(gguf_import.imported(path))
    assert main(["generate", "--model", str(path), "--prompt", "def ", "--max-new-tokens", "4", "--greedy",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] is not None
    out = tmp_path / "tuned"
    assert main(["--workspace", str(ws), "train", "--model", str(path), "--data", str(lm_text), "--out", str(out),
                 "--seq-len", "32", "--batch-size", "4", "--max-steps", "2", "--eval-every", "2", "--save-every", "2",
                 "--device", "cpu"]) == 0
    assert (out / "model" / "config.json").is_file()


def test_files_that_cannot_be_imported_say_why(tmp_path, tiny_gguf, ws):
    path, _, _ = tiny_gguf
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ModelError, match="not a readable GGUF file .* cut short"):
        gguf_import.imported(cut, ws)
    import gguf

    other = tmp_path / "other.gguf"
    writer = gguf.GGUFWriter(str(other), "made-up-arch")
    writer.add_tensor("x", np.zeros(4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelError, match="holds a made-up-arch model, which transformers cannot read"):
        gguf_import.imported(other, ws)
    with pytest.raises(ModelError, match="There is no GGUF file"):
        gguf_import.imported(tmp_path / "missing.gguf", ws)


def test_the_import_goes_to_the_workspace_a_command_names(tiny_gguf, tmp_path, monkeypatch, capsys):
    path, _, _ = tiny_gguf
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "elsewhere"))
    assert main(["--workspace", str(tmp_path / "named"), "generate", "--model", str(path), "--prompt", "def ",
                 "--max-new-tokens", "2", "--greedy"]) == 0
    assert list((tmp_path / "named" / "cache" / gguf_import.FOLDER).iterdir())
    assert not (tmp_path / "elsewhere").exists()
    import os

    assert os.environ["STUDIO_WORKSPACE"] == str(tmp_path / "elsewhere")  # as it was, after the command
