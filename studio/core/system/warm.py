"""Importing the heavy libraries once, from one thread at a time.

transformers resolves its classes through lazy modules whose first import is not thread-safe: two
background jobs touching it at once (the window loads data while it estimates a model's size) can
see half-initialised modules. Every background entry point calls `warm_up()` first.
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()
_done = False


def warm_up() -> None:
    global _done
    if _done:
        return
    with _LOCK:
        if _done:
            return
        import datasets  # noqa: F401
        import torch  # noqa: F401
        import transformers

        for name in ("PreTrainedTokenizerBase", "PreTrainedTokenizerFast", "AutoTokenizer", "AutoConfig",
                     "AutoModelForCausalLM", "AutoModelForSeq2SeqLM", "Trainer", "Seq2SeqTrainer",
                     "GPT2Config", "BartConfig", "T5Config", "GPT2LMHeadModel", "BartForConditionalGeneration",
                     "T5ForConditionalGeneration"):
            getattr(transformers, name)
        _done = True
