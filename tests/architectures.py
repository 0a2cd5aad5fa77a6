"""Tiny random checkpoints of the common model families, each with a tokenizer shaped like its real one: WordPiece
with `[CLS] x [SEP]`, byte-level BPE, or a SentencePiece-style unigram with byte fallback; its own special tokens
with the pad token present or missing as the real one has it; and a chat template where the family has one. Saved
as a model folder, as a checkpoint from the Hub comes, so Studio takes the path a real one takes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import TOPICS, WORDS

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
INST = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]"
        "{% elif m['role'] == 'assistant' %} {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}")
GEMMA = ("{{ bos_token }}{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else "
         "m['role'] }}\n{{ m['content'] }}<end_of_turn>\n{% endfor %}"
         "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
PHI3 = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


@dataclass(frozen=True)
class Family:
    model_type: str
    auto: str  # the auto class its checkpoints are saved as
    shape: str  # "wordpiece", "bpe" (byte-level) or "unigram" (SentencePiece-style, byte fallback)
    specials: dict[str, str]  # role -> token, in id order; a role left out is missing, as in the real one
    template: str | None  # the post-processor's template for one text
    config: dict[str, Any]
    chat_template: str | None = None
    extra: tuple[str, ...] = ()  # more special tokens (a chat template's markers)
    config_ids: dict[str, str] = field(default_factory=dict)  # config id name -> role, beyond bos/eos/pad


_DEC = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "max_position_embeddings": 512}
_ENC = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "max_position_embeddings": 512}
_SP = {"unk": "<unk>", "bos": "<s>", "eos": "</s>"}

FAMILIES: dict[str, Family] = {
    "gpt2": Family("gpt2", "AutoModelForCausalLM", "bpe", {"bos": "<|endoftext|>", "eos": "<|endoftext|>"}, None,
                   {"n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 512}),
    "llama": Family("llama", "AutoModelForCausalLM", "unigram", _SP, "<s> $A", {**_DEC, "num_key_value_heads": 2},
                    INST),
    "qwen2": Family("qwen2", "AutoModelForCausalLM", "bpe", {"pad": "<|endoftext|>", "eos": "<|im_end|>"}, None,
                    {**_DEC, "num_key_value_heads": 2}, CHATML, ("<|im_start|>",)),
    "mistral": Family("mistral", "AutoModelForCausalLM", "unigram", _SP, "<s> $A", {**_DEC, "num_key_value_heads": 2},
                      INST),
    "gemma": Family("gemma", "AutoModelForCausalLM", "unigram",
                    {"pad": "<pad>", "eos": "<eos>", "bos": "<bos>", "unk": "<unk>"}, "<bos> $A",
                    {**_DEC, "num_key_value_heads": 1, "head_dim": 8}, GEMMA, ("<start_of_turn>", "<end_of_turn>")),
    "phi3": Family("phi3", "AutoModelForCausalLM", "unigram", {**_SP, "pad": "<|endoftext|>"}, None,
                   {**_DEC, "num_key_value_heads": 4}, PHI3, ("<|user|>", "<|assistant|>", "<|system|>", "<|end|>")),
    "gpt_neox": Family("gpt_neox", "AutoModelForCausalLM", "bpe", {"bos": "<|endoftext|>", "eos": "<|endoftext|>"},
                       None, _DEC),
    "bert": Family("bert", "AutoModelForMaskedLM", "wordpiece",
                   {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"},
                   "[CLS] $A [SEP]", _ENC),
    "distilbert": Family("distilbert", "AutoModelForMaskedLM", "wordpiece",
                         {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"},
                         "[CLS] $A [SEP]", {"dim": 32, "hidden_dim": 64, "n_layers": 2, "n_heads": 4,
                                            "max_position_embeddings": 512}),
    "roberta": Family("roberta", "AutoModelForMaskedLM", "bpe",
                      {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"},
                      "<s> $A </s>", {**_ENC, "max_position_embeddings": 130}),
    "deberta-v2": Family("deberta-v2", "AutoModelForMaskedLM", "unigram",
                         {"pad": "[PAD]", "cls": "[CLS]", "sep": "[SEP]", "unk": "[UNK]", "mask": "[MASK]"},
                         "[CLS] $A [SEP]", {**_ENC, "position_buckets": 16, "max_relative_positions": 32}),
    "electra": Family("electra", "AutoModelForMaskedLM", "wordpiece",
                      {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"},
                      "[CLS] $A [SEP]", {**_ENC, "embedding_size": 32}),
    "modernbert": Family("modernbert", "AutoModelForMaskedLM", "bpe",
                         {"unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "mask": "[MASK]"},
                         "[CLS] $A [SEP]", {**_ENC, "global_attn_every_n_layers": 2, "local_attention": 16}),
    "bart": Family("bart", "AutoModelForSeq2SeqLM", "bpe",
                   {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"},
                   "<s> $A </s>", {"d_model": 32, "encoder_layers": 1, "decoder_layers": 1,
                                   "encoder_attention_heads": 4, "decoder_attention_heads": 4,
                                   "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "max_position_embeddings": 512},
                   config_ids={"decoder_start_token_id": "eos", "forced_bos_token_id": "bos"}),
    "t5": Family("t5", "AutoModelForSeq2SeqLM", "unigram", {"pad": "<pad>", "eos": "</s>", "unk": "<unk>"},
                 "$A </s>", {"d_model": 32, "d_ff": 64, "num_layers": 1, "num_heads": 4, "d_kv": 8},
                 config_ids={"decoder_start_token_id": "pad"}),
}


def corpus() -> list[str]:
    words = list(WORDS) + [w for ws in TOPICS.values() for w in ws] + ["system", "user", "assistant", "model"]
    return [" ".join(words[i:] + words[:i]) for i in range(len(words))] + ["héllo wörld 你好 😀 def f(x): return x"]


def _train(family: Family) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    specials = list(dict.fromkeys(family.specials.values())) + list(family.extra)
    if family.shape == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token=family.specials["unk"]))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        tok.train_from_iterator(corpus(), trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials,
                                                                    show_progress=False))
    elif family.shape == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.train_from_iterator(corpus(), trainers.BpeTrainer(
            vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False))
    else:  # SentencePiece's shape: "▁" for spaces, and bytes for what the pieces cannot spell
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.train_from_iterator(corpus(), trainers.UnigramTrainer(
            vocab_size=200, special_tokens=specials, unk_token=family.specials.get("unk"), show_progress=False))
        learned = json.loads(tok.to_str())["model"]
        pieces = [tuple(p) for p in learned["vocab"]] + [(f"<0x{b:02X}>", -20.0) for b in range(256)]
        tok.model = models.Unigram(pieces, unk_id=learned["unk_id"], byte_fallback=True)
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
    steps = [processors.ByteLevel(trim_offsets=True)] if family.shape == "bpe" else []
    if family.template:
        used = [t for t in family.template.split() if not t.startswith("$")]
        steps.append(processors.TemplateProcessing(single=family.template,
                                                   special_tokens=[(t, tok.token_to_id(t)) for t in used]))
    if steps:
        tok.post_processor = processors.Sequence(steps)
    return tok


def tokenizer(name: str) -> Any:
    from transformers import PreTrainedTokenizerFast

    family = FAMILIES[name]
    names = {f"{role}_token": token for role, token in family.specials.items()}
    wrapped = PreTrainedTokenizerFast(tokenizer_object=_train(family), model_max_length=512, **names,
                                      additional_special_tokens=list(family.extra) or None)
    if family.chat_template:
        wrapped.chat_template = family.chat_template
    return wrapped


def write_checkpoint(name: str, folder: Path) -> Path:
    """A tiny random checkpoint of family `name` in `folder`: config, weights and tokenizer."""
    import torch
    import transformers

    family = FAMILIES[name]
    tok = tokenizer(name)
    ids = {f"{role}_token_id": tok.convert_tokens_to_ids(token) for role, token in family.specials.items()
           if role in ("bos", "eos", "pad")}
    ids["pad_token_id"] = ids.get("pad_token_id")  # missing stays missing, as in the real config
    for key, role in family.config_ids.items():
        ids[key] = tok.convert_tokens_to_ids(family.specials[role])
    config = transformers.AutoConfig.for_model(family.model_type, vocab_size=len(tok), **family.config, **ids)
    torch.manual_seed(0)
    model = getattr(transformers, family.auto).from_config(config)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
