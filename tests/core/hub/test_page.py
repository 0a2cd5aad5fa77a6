"""Searching the Hub and reading a model's page (card, files, variants, config) from a Hub that runs here,
without anything landing in the cache; and the choice of files a download takes."""

from __future__ import annotations

import json

import pytest

from studio.core.errors import ConfigError, HubError
from studio.core.hub import local
from studio.core.hub.page import read
from studio.core.hub.search import search
from studio.core.hub.variants import RemoteFile, default_files, quantization, variants
from studio.core.tasks import registry

CONFIG = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
          "num_attention_heads": 4, "vocab_size": 500, "architectures": ["LlamaForCausalLM"]}
CARD = b"---\nlicense: mit\nbase_model: me/base\n---\n# Tiny chat\n\nIt answers in one line.\n"


def test_search_is_filtered_to_what_the_task_can_start_from_most_downloaded_first(hub):
    hub.add("me/writer", {}, downloads=50, pipeline_tag="text-generation")
    hub.add("me/encoder", {}, downloads=90, likes=3, pipeline_tag="fill-mask", gated=True, parameters=22_700_000,
            license="mit")
    hub.add("me/sorter", {}, downloads=10, pipeline_tag="text-classification")
    hub.add("other/thing", {}, downloads=1000, pipeline_tag="fill-mask")
    assert [f.id for f in search("me/")] == ["me/encoder", "me/writer", "me/sorter"]
    classify = registry.get("classify")
    found = search("me/", classify.hub_tags)
    assert [f.id for f in found] == ["me/encoder", "me/sorter"]  # an encoder to fine-tune, or a classifier
    assert found[0].as_json() == {"id": "me/encoder", "downloads": 90, "likes": 3, "updated": "2026-11-30T12:00:00Z",
                                  "gated": True}
    assert (found[0].parameters, found[0].license) == (22_700_000, "mit")
    assert [f.id for f in search("me/", registry.get("chat").hub_tags)] == ["me/writer"]
    assert [f.id for f in search("me/", limit=1)] == ["me/encoder"]


def test_a_page_has_its_card_files_variants_and_config_and_downloads_nothing(hub, hf_cache):
    hub.add("me/base", {"config.json": json.dumps(CONFIG).encode()})
    hub.add("me/chat", {"config.json": json.dumps(CONFIG).encode(), "README.md": CARD,
                        "model.safetensors": b"x" * 3000, "tokenizer.json": b"{}", "onnx/model.onnx": b"o" * 10})
    page = read("me/chat")
    assert page.card.startswith("# Tiny chat") and page.config == CONFIG and page.config_from == "me/chat"
    assert {f.name: f.size for f in page.files}["model.safetensors"] == 3000
    assert [v.title for v in page.variants] == ["Safetensors weights"]
    assert page.license == "mit"  # the card's
    # a repository of GGUF files only: the config is its base model's, each quantization a variant
    hub.add("me/chat-GGUF", {"README.md": CARD, "chat-Q8_0.gguf": b"q" * 800, "chat-Q4_K_M.gguf": b"q" * 500})
    page = read("me/chat-GGUF")
    assert page.config == CONFIG and page.config_from == "me/base"
    assert [(v.title, v.size) for v in page.variants] == [("GGUF Q4_K_M", 500), ("GGUF Q8_0", 800)]
    assert local.cached() == [] and not hf_cache.exists()  # looking is not downloading
    with pytest.raises(HubError, match="no model 'me/none'"):
        read("me/none")


def test_a_download_takes_one_format_and_asks_which_gguf():
    files = [RemoteFile(n, 10) for n in ("config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5",
                                         "onnx/model.onnx", "flax_model.msgpack", "tokenizer.json", "README.md")]
    assert [f.name for f in default_files(files)] == ["config.json", "model.safetensors", "tokenizer.json",
                                                       "README.md"]
    pickles = [f for f in files if f.name != "model.safetensors"]
    assert "pytorch_model.bin" in [f.name for f in default_files(pickles)]
    ggufs = [RemoteFile("m-Q4_K_M.gguf", 5), RemoteFile("m-Q8_0.gguf", 9), RemoteFile("README.md", 1)]
    with pytest.raises(ConfigError, match="2 GGUF files.*--include 'm-Q4_K_M.gguf'"):
        default_files(ggufs)
    assert [v.include for v in variants(ggufs)] == [("m-Q4_K_M.gguf",), ("m-Q8_0.gguf",)]
    assert [quantization(n) for n in ("a-Q4_K_M.gguf", "b.Q8_0.gguf", "c-f16.gguf", "d-IQ3_XS.gguf", "plain.gguf")] \
        == ["Q4_K_M", "Q8_0", "F16", "IQ3_XS", None]
