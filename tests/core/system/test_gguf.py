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
from tests.helpers import write_llama_gguf

TEXTS = ["def add(a, b):\n    return a + b\n" * 50, "class A:\n    pass\n" * 50]


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    tokenizer = train_bpe(TEXTS, 300, family="llama")
    torch.manual_seed(0)
    model = presets.build("llama-tiny", tokenizer, "AutoModelForCausalLM").eval()
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf"
    write_llama_gguf(model, tokenizer, path)
    return path, model, tokenizer


def test_the_imported_folder_gives_the_same_logits_and_is_imported_once(tiny_gguf, ws):
    path, model, tokenizer = tiny_gguf
    note = gguf_import.import_note(path, ws)
    assert note.startswith(f"Importing {path.name} once") and "MB" in note
    folder = gguf_import.imported(path, ws)
    assert gguf_import.import_note(path, ws) is None
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
    fresh = tmp_path / "fresh-workspace"  # one that has not imported the file yet
    assert main(["--workspace", str(fresh), "train", "--model", str(path), "--data", str(lm_text), "--out", str(out),
                 "--seq-len", "32", "--batch-size", "4", "--max-steps", "2", "--eval-every", "2", "--save-every", "2",
                 "--device", "cpu"]) == 0
    assert (out / "model" / "config.json").is_file()
    assert f"Importing {path.name} once" in capsys.readouterr().err


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
    assert f"studio: Importing {path.name} once" in capsys.readouterr().err  # said before the wait
    assert list((tmp_path / "named" / "cache" / gguf_import.FOLDER).iterdir())
    assert not (tmp_path / "elsewhere").exists()
    import os

    assert os.environ["STUDIO_WORKSPACE"] == str(tmp_path / "elsewhere")  # as it was, after the command


def test_the_import_reports_each_tensor_and_stops_when_asked_leaving_nothing(tiny_gguf, tmp_path):
    from transformers import modeling_gguf_pytorch_utils as loader

    from studio.core.control import Control
    from studio.core.errors import Cancelled

    path, _, _ = tiny_gguf
    bar = loader.tqdm
    control = Control()
    heard = []

    def progress(fraction, message):
        heard.append((fraction, message))
        if message.startswith("Dequantizing tensor 3 "):
            control.stop()

    stopped = tmp_path / "stopped"
    with pytest.raises(Cancelled):
        gguf_import.imported(path, stopped, progress=progress, control=control)
    assert loader.tqdm is bar  # the library's own bar is back
    assert heard[-1][1].startswith("Dequantizing tensor 3 ")
    cache = stopped / "cache" / gguf_import.FOLDER
    assert not cache.exists() or not list(cache.iterdir())  # neither the folder nor its staging copy
    heard.clear()
    folder = gguf_import.imported(path, tmp_path / "whole", progress=lambda f, m: heard.append((f, m)))
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    tensors = len([m for _, m in heard if m.startswith("Dequantizing tensor")])
    assert tensors > 3 and (folder / "config.json").is_file()
