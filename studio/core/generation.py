"""Generation and summarization with `model.generate`, streamed token by token, stoppable.

Log-probabilities are the model's own (temperature 1, before top-k/top-p and penalties), from one
teacher-forced forward pass over the finished sequence: `generate` only exposes scores after its
processors, and the untouched distribution is what tells a person how sure the model was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.core.control import Control
from studio.core.errors import ConfigError, ModelError
from studio.core.inference import LoadedModel


@dataclass
class Sampling:
    max_new_tokens: int = 64
    temperature: float = 0.8
    top_k: int = 50
    top_p: float = 0.95
    repetition_penalty: float = 1.0
    seed: int | None = None
    greedy: bool = False
    num_beams: int = 1
    length_penalty: float = 1.0
    min_new_tokens: int = 0
    no_repeat_ngram_size: int = 0

    def check(self) -> None:
        if not 1 <= self.max_new_tokens <= 4096:
            raise ConfigError(f"--max-new-tokens {self.max_new_tokens} is impossible; choose 1 to 4096.")
        if self.temperature <= 0 and not self.greedy:
            raise ConfigError("--temperature must be above 0; for deterministic output use --greedy.")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"--top-p {self.top_p} must be above 0 and at most 1.")
        if self.top_k < 0:
            raise ConfigError(f"--top-k {self.top_k} must be 0 (off) or more.")
        if self.repetition_penalty <= 0:
            raise ConfigError(f"--repetition-penalty {self.repetition_penalty} must be above 0 (1 is off).")
        if self.num_beams < 1:
            raise ConfigError(f"--num-beams {self.num_beams} must be at least 1.")
        if self.min_new_tokens > self.max_new_tokens:
            raise ConfigError("--min-new-tokens cannot exceed --max-new-tokens.")

    def generate_kwargs(self) -> dict[str, Any]:
        # max_length/min_length are cleared so a saved generation config cannot cap the new-token counts.
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "max_length": None, "min_length": None,
                                  "num_beams": self.num_beams, "repetition_penalty": self.repetition_penalty}
        if self.min_new_tokens:
            kwargs["min_new_tokens"] = self.min_new_tokens
        if self.no_repeat_ngram_size:
            kwargs["no_repeat_ngram_size"] = self.no_repeat_ngram_size
        if self.num_beams > 1:
            kwargs["length_penalty"] = self.length_penalty
            kwargs["early_stopping"] = True
        if self.greedy or self.num_beams > 1:
            kwargs["do_sample"] = False
        else:
            kwargs.update(do_sample=True, temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
        return kwargs


@dataclass
class Token:
    text: str
    id: int
    logprob: float | None = None


@dataclass
class Generation:
    text: str
    tokens: list[Token] = field(default_factory=list)
    tokens_per_second: float = 0.0
    time_to_first_token: float = 0.0
    prompt_tokens: int = 0
    prompt_truncated: bool = False
    stopped: bool = False
    finish_reason: str = "length"  # "eos", "length" or "stopped"

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": [t.__dict__ for t in self.tokens],
                "tokens_per_second": self.tokens_per_second, "time_to_first_token": self.time_to_first_token,
                "prompt_tokens": self.prompt_tokens, "prompt_truncated": self.prompt_truncated,
                "finish_reason": self.finish_reason}


OnToken = Callable[[Token], None]


class _Streamer:
    """Receives ids from `generate` as they are chosen and hands out text deltas.

    Hand-written instead of TextIteratorStreamer because we need the id with each piece of text and a
    callback, not a queue. Like TextStreamer it decodes only the ids since the last line break (so a
    long generation stays linear) and holds text back while a byte-level token ends inside a UTF-8
    character.
    """

    def __init__(self, tokenizer: Any, on_token: OnToken | None) -> None:
        self.tokenizer = tokenizer
        self.on_token = on_token
        self.first_at: float | None = None
        self._line: list[int] = []
        self._emitted = 0  # characters of the current line already handed out
        self._skipped_prompt = False

    def put(self, value: Any) -> None:
        if not self._skipped_prompt:  # the first call carries the prompt (or decoder start), not new tokens
            self._skipped_prompt = True
            return
        if self.first_at is None:
            self.first_at = time.perf_counter()
        for token_id in value.reshape(-1).tolist():
            self._line.append(token_id)
            text = self.tokenizer.decode(self._line, skip_special_tokens=True)
            delta = "" if text.endswith("\ufffd") else text[self._emitted:]
            self._emitted += len(delta)
            if text.endswith("\n"):
                self._line, self._emitted = [], 0
            if self.on_token is not None:
                self.on_token(Token(delta, token_id))

    def end(self) -> None:
        pass


def _stop_criteria(control: Control | None) -> list[Any]:
    if control is None:
        return []
    from transformers import StoppingCriteria

    class _StopOnRequest(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            return torch.full((input_ids.shape[0],), control.stopped, dtype=torch.bool, device=input_ids.device)

    return [_StopOnRequest()]


def generate(loaded: LoadedModel, prompt: str, sampling: Sampling, *, on_token: OnToken | None = None,
             control: Control | None = None) -> Generation:
    """Continue `prompt` with a causal LM, or answer it with an encoder-decoder model."""
    sampling.check()
    tok = loaded.tokenizer
    ids = tok(prompt, add_special_tokens=False)["input_ids"] if prompt else []
    if loaded.task == "summarize":
        ids = ids + [tok.eos_token_id]
    budget = loaded.max_positions - (0 if loaded.task == "summarize" else sampling.max_new_tokens)
    if budget < 1:
        raise ConfigError(f"--max-new-tokens {sampling.max_new_tokens} leaves no room for a prompt in a model "
                          f"that reads {loaded.max_positions} tokens; lower it.")
    truncated = len(ids) > budget
    ids = ids[-budget:] if loaded.task == "lm" else ids[:budget]
    if not ids:
        ids = [tok.eos_token_id]  # an empty prompt starts where a document would
    return _run(loaded, ids, sampling, on_token, control, truncated)


def summarize(loaded: LoadedModel, text: str, sampling: Sampling, *, on_token: OnToken | None = None,
              control: Control | None = None) -> Generation:
    if loaded.task != "summarize":
        raise ModelError(f"'{loaded.source}' is a decoder-only language model; summarization needs an "
                         "encoder-decoder model, such as one trained with --task summarize.")
    if not text.strip():
        raise ConfigError("There is no text to summarize; give --text or a --file with text in it.")
    return generate(loaded, text, sampling, on_token=on_token, control=control)


def _run(loaded: LoadedModel, ids: list[int], sampling: Sampling, on_token: OnToken | None,
         control: Control | None, truncated: bool) -> Generation:
    import torch
    from transformers import set_seed

    model, tok = loaded.model, loaded.tokenizer
    if sampling.seed is not None:
        set_seed(sampling.seed)
    input_ids = torch.tensor([ids], device=loaded.device)
    kwargs = sampling.generate_kwargs()
    streamer = _Streamer(tok, on_token) if sampling.num_beams == 1 else None
    started = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), streamer=streamer,
                             stopping_criteria=_stop_criteria(control), pad_token_id=tok.pad_token_id, **kwargs)
    elapsed = time.perf_counter() - started
    new = out[0].tolist() if model.config.is_encoder_decoder else out[0, len(ids):].tolist()
    if model.config.is_encoder_decoder and new and new[0] == model.generation_config.decoder_start_token_id:
        new = new[1:]
    while new and new[-1] == tok.pad_token_id and tok.pad_token_id != tok.eos_token_id:
        new.pop()
    logprobs = _logprobs(loaded, ids, new)
    tokens = [Token(tok.decode([i], skip_special_tokens=False), i, lp) for i, lp in zip(new, logprobs)]
    stopped = bool(control and control.stopped)
    reason = "stopped" if stopped else "eos" if new and new[-1] == tok.eos_token_id else "length"
    first = (streamer.first_at - started) if streamer and streamer.first_at else elapsed
    return Generation(text=tok.decode(new, skip_special_tokens=True), tokens=tokens,
                      tokens_per_second=len(new) / elapsed if elapsed > 0 else 0.0, time_to_first_token=first,
                      prompt_tokens=len(ids), prompt_truncated=truncated, stopped=stopped, finish_reason=reason)


def _logprobs(loaded: LoadedModel, prompt: list[int], new: list[int]) -> list[float]:
    if not new:
        return []
    import torch

    model = loaded.model
    with torch.inference_mode():
        if model.config.is_encoder_decoder:
            start = model.generation_config.decoder_start_token_id
            decoder = torch.tensor([[start] + new[:-1]], device=loaded.device)
            logits = model(input_ids=torch.tensor([prompt], device=loaded.device), decoder_input_ids=decoder).logits[0]
        else:
            full = torch.tensor([prompt + new[:-1]], device=loaded.device)
            logits = model(input_ids=full).logits[0, len(prompt) - 1:]
        logp = torch.log_softmax(logits.float(), dim=-1)
        picked = logp.gather(1, torch.tensor(new, device=loaded.device)[:, None])[:, 0]
    return [round(float(v), 6) for v in picked.cpu()]
