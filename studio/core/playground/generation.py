"""Generation and summarization with `model.generate`, streamed token by token, stoppable.

A stop request ends generation before the next token is shown: the streamer raises as soon as it
sees the request, instead of waiting for transformers' stopping criteria, which run one step late.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.core.control import Control
from studio.core.data.encoding import cut, encode
from studio.core.errors import ConfigError, ModelError
from studio.core.modeling import shapes
from studio.core.modeling.loaded import LoadedModel
from studio.core.playground.sampling import Sampling
from studio.core.playground.scoring import Alternative, score

# torch samples from one global generator; two seeded generations at once (side by side) would
# interleave their draws, so seeded sampling takes turns to stay reproducible.
_SEEDED = threading.Lock()


@dataclass
class Token:
    text: str  # the characters this token adds to the output ("" for an end token or half a character)
    id: int
    logprob: float | None = None
    alternatives: list[Alternative] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "id": self.id, "logprob": self.logprob,
                "alternatives": [a.__dict__ for a in self.alternatives]}


@dataclass
class Generation:
    text: str
    tokens: list[Token] = field(default_factory=list)
    tokens_per_second: float = 0.0
    time_to_first_token: float = 0.0
    seconds: float = 0.0
    prompt_tokens: int = 0
    prompt_truncated: bool = False
    stopped: bool = False
    finish_reason: str = "length"  # "eos", "length" or "stopped"

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": [t.as_dict() for t in self.tokens],
                "tokens_per_second": self.tokens_per_second, "time_to_first_token": self.time_to_first_token,
                "seconds": self.seconds, "prompt_tokens": self.prompt_tokens,
                "prompt_truncated": self.prompt_truncated, "finish_reason": self.finish_reason}


OnToken = Callable[[Token], None]


class _Pieces:
    """Turns ids into the text each adds, in constant time per token.

    Hand-written because transformers' streamers decode everything since the last line break on every
    token, which grows quadratic on long lines. Like vLLM's incremental detokenizer, it decodes a short
    window twice (with and without the newest ids) and hands out the difference, holding text back
    while a byte-level token ends inside a UTF-8 character.
    """

    def __init__(self, tokenizer: Any) -> None:
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is not None and not getattr(tokenizer, "clean_up_tokenization_spaces", False):
            # the Rust decoder gives the same text without the Python wrapper's per-call signature
            # inspection, which costs more than the decoding itself at hundreds of tokens a second
            self._decode = lambda ids: backend.decode(ids, skip_special_tokens=True)
        else:
            self._decode = lambda ids: tokenizer.decode(ids, skip_special_tokens=True)
        self._ids: list[int] = []
        self._prefix = 0  # the window starts here: context that keeps spacing right
        self._read = 0  # ids before this are handed out

    def add(self, token_id: int) -> str:
        self._ids.append(token_id)
        before = self._decode(self._ids[self._prefix:self._read])
        after = self._decode(self._ids[self._prefix:])
        if len(after) <= len(before) or after.endswith("\ufffd"):
            return ""
        self._ids = self._ids[self._read:]
        self._prefix, self._read = 0, len(self._ids)
        return after[len(before):]

    def rest(self) -> str:
        """What was held back at the end (bytes that never completed a character)."""
        return self._decode(self._ids[self._prefix:])[len(self._decode(self._ids[self._prefix:self._read])):]


class _StopNow(Exception):
    pass


class _Streamer:
    """Receives ids from `generate` as they are chosen and hands out Tokens.

    Hand-written instead of TextIteratorStreamer because we need the id with each piece of text, a
    callback rather than a queue, and a stop that does not wait for the next step's criteria.
    """

    def __init__(self, pieces: _Pieces, on_token: OnToken | None, control: Control | None) -> None:
        self.pieces = pieces
        self.on_token = on_token
        self.control = control
        self.first_at: float | None = None
        self.ids: list[int] = []
        self._skipped_prompt = False

    def put(self, value: Any) -> None:
        if not self._skipped_prompt:  # the first call carries the prompt (or decoder start), not new tokens
            self._skipped_prompt = True
            return
        if self.control is not None and self.control.stopped:
            raise _StopNow
        if self.first_at is None:
            self.first_at = time.perf_counter()
        for token_id in value.reshape(-1).tolist():
            self.ids.append(token_id)
            token = Token(self.pieces.add(token_id), token_id)
            if self.on_token is not None:
                self.on_token(token)

    def end(self) -> None:
        pass


def _stop_criteria(control: Control | None) -> list[Any]:
    if control is None:
        return []
    from transformers import StoppingCriteria

    class _StopOnRequest(StoppingCriteria):  # for beam search, which cannot stream
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            return torch.full((input_ids.shape[0],), control.stopped, dtype=torch.bool, device=input_ids.device)

    return [_StopOnRequest()]


def generate(loaded: LoadedModel, prompt: str, sampling: Sampling, *, on_token: OnToken | None = None,
             control: Control | None = None, forced: list[int] | None = None) -> Generation:
    """Continue `prompt` with a causal LM, or answer it with an encoder-decoder model.

    `forced` are output token ids to start from (a person chose an alternative at that point); they are
    streamed first and the model continues after them.
    """
    sampling.check()
    tok = loaded.tokenizer
    forced = list(forced or [])
    seq2seq = loaded.model.config.is_encoder_decoder
    budget = loaded.max_positions - (0 if seq2seq else sampling.max_new_tokens + len(forced))
    if budget < 1:
        raise ConfigError(f"--max-new-tokens {sampling.max_new_tokens} leaves no room for a prompt in a model "
                          f"that reads {loaded.max_positions} tokens; lower it.")
    ids = encode(tok, [prompt])[0] if prompt or seq2seq else []
    truncated = len(ids) > budget
    ids = cut(tok, [ids], budget, keep="start" if seq2seq else "end")[0]
    if not ids:
        ids = [tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id]  # where a document starts
    if sampling.seed is not None and sampling.samples:
        with _SEEDED:
            return _run(loaded, ids, forced, sampling, on_token, control, truncated)
    return _run(loaded, ids, forced, sampling, on_token, control, truncated)


def chat(loaded: LoadedModel, messages: list[dict[str, str]], sampling: Sampling, *, on_token: OnToken | None = None,
         control: Control | None = None, forced: list[int] | None = None) -> Generation:
    """The assistant's next turn in `messages`, rendered by the model's chat template with the generation
    prompt, ending at the template's end of turn. A conversation longer than the model reads loses its
    oldest exchanges (the system prompt stays), then, if one turn alone is too long, its start."""
    from studio.core.data import chat_encoding, chat_templates

    sampling.check()
    if messages and messages[-1]["role"] == "user" and not messages[-1]["content"].strip() and not forced:
        raise ConfigError("The message is empty, so there is nothing to answer; write a few words.")
    tok, forced = loaded.tokenizer, list(forced or [])
    if loaded.model.config.is_encoder_decoder:
        raise ModelError(f"'{loaded.source}' is an encoder-decoder model; chat needs a decoder-only language model, "
                         "such as one trained with --task chat.")
    if not getattr(tok, "chat_template", None):
        raise ModelError(f"'{loaded.source}' has no chat template, so Studio cannot tell how it marks turns; "
                         "tune it with --task chat --chat-template chatml (or llama3, gemma), or use "
                         "'studio generate' to continue text.")
    budget = loaded.max_positions - sampling.max_new_tokens - len(forced)
    if budget < 1:
        raise ConfigError(f"--max-new-tokens {sampling.max_new_tokens} leaves no room for the conversation in a "
                          f"model that reads {loaded.max_positions} tokens; lower it.")
    system = [m for m in messages[:1] if m["role"] == "system"]
    turns = messages[len(system):]
    ids = chat_encoding.prompt_ids(tok, messages)
    truncated = False
    while len(ids) > budget and len(turns) > 2:
        turns, truncated = turns[2:], True  # one exchange: a user turn and its answer
        ids = chat_encoding.prompt_ids(tok, system + turns)
    if len(ids) > budget:
        ids, truncated = ids[-budget:], True
    stops = chat_templates.stop_ids(tok, loaded.model.generation_config.eos_token_id)
    if sampling.seed is not None and sampling.samples:
        with _SEEDED:
            return _run(loaded, ids, forced, sampling, on_token, control, truncated, stops)
    return _run(loaded, ids, forced, sampling, on_token, control, truncated, stops)


def summarize(loaded: LoadedModel, text: str, sampling: Sampling, *, on_token: OnToken | None = None,
              control: Control | None = None, forced: list[int] | None = None) -> Generation:
    return rewrite(loaded, text, sampling, "summarize", on_token=on_token, control=control, forced=forced)


def rewrite(loaded: LoadedModel, text: str, sampling: Sampling, task: str, *, on_token: OnToken | None = None,
            control: Control | None = None, forced: list[int] | None = None) -> Generation:
    """An encoder-decoder's target for `text` (a summary, a translation): `task` names what it does, in the
    sentences that refuse a decoder or an empty text."""
    if not loaded.model.config.is_encoder_decoder:
        raise ModelError(f"'{loaded.source}' is a {loaded.shape} {loaded.task.title.lower()} model; --task {task} "
                         f"needs an encoder-decoder model, such as one trained with --task {task}.")
    if not text.strip():
        raise ConfigError(f"There is no text to {task}; give --text or a --file with text in it.")
    return generate(loaded, text, sampling, on_token=on_token, control=control, forced=forced)


def _run(loaded: LoadedModel, ids: list[int], forced: list[int], sampling: Sampling, on_token: OnToken | None,
         control: Control | None, truncated: bool, stops: list[int] | None = None) -> Generation:
    import torch
    from transformers import set_seed

    model, tok = loaded.model, loaded.tokenizer
    seq2seq = model.config.is_encoder_decoder
    if sampling.seed is not None:
        set_seed(sampling.seed)
    pieces = _Pieces(tok)
    for token_id in forced:
        if on_token is not None:
            on_token(Token(pieces.add(token_id), token_id))
    input_ids = torch.tensor([ids if seq2seq else ids + forced], device=loaded.device)
    extra: dict[str, Any] = {}
    if seq2seq and forced:
        extra["decoder_input_ids"] = torch.tensor([shapes.decoder_sequence(model, forced)], device=loaded.device)
    kwargs = sampling.generate_kwargs()
    if stops:
        kwargs["eos_token_id"] = stops
    streamer = _Streamer(pieces, on_token, control) if sampling.num_beams == 1 else None
    started = time.perf_counter()
    out = None
    try:
        with torch.inference_mode():
            out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), streamer=streamer,
                                 stopping_criteria=_stop_criteria(control), pad_token_id=tok.pad_token_id,
                                 **kwargs, **extra)
    except _StopNow:
        pass
    elapsed = time.perf_counter() - started
    if out is None:
        new = list(streamer.ids)
    elif seq2seq:
        new = out[0].tolist()[1 + len(forced):]
    else:
        new = out[0, input_ids.shape[1]:].tolist()
    while new and new[-1] == tok.pad_token_id and tok.pad_token_id != tok.eos_token_id:
        new.pop()
    everything = forced + new
    if control is not None and control.stopped:
        # a person who pressed Stop wants the text now: scoring every token is one more pass over the whole
        # text (seconds on a CPU), so a stopped answer comes without its probabilities
        logprobs, alternatives = [None] * len(everything), [[] for _ in everything]
    else:
        logprobs, alternatives = score(loaded, ids, everything)
    final = _Pieces(tok)
    tokens = [Token(final.add(i), i, lp, alts) for i, lp, alts in zip(everything, logprobs, alternatives)]
    if tokens:
        tokens[-1].text += final.rest()
    stopped = bool(control and control.stopped)
    ends = stops or [tok.eos_token_id]
    reason = "stopped" if stopped else "eos" if new and new[-1] in ends else "length"
    first = (streamer.first_at - started) if streamer and streamer.first_at else elapsed
    return Generation(text=tok.decode(everything, skip_special_tokens=True), tokens=tokens,
                      tokens_per_second=len(new) / elapsed if elapsed > 0 else 0.0, time_to_first_token=first,
                      seconds=elapsed, prompt_tokens=len(ids), prompt_truncated=truncated, stopped=stopped,
                      finish_reason=reason)
