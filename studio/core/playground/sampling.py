"""Decoding settings for generation and summarization, their checks, and named presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from studio.core.errors import ConfigError
from studio.core.settings import Setting

# Sampling settings a person can pick by name; greedy and length settings are left as they are.
PRESETS: dict[str, dict[str, float | int]] = {
    "precise": {"temperature": 0.3, "top_k": 20, "top_p": 0.9, "repetition_penalty": 1.1},
    "balanced": {"temperature": 0.8, "top_k": 50, "top_p": 0.95, "repetition_penalty": 1.0},
    "creative": {"temperature": 1.1, "top_k": 0, "top_p": 0.98, "repetition_penalty": 1.0},
}

# How summaries are decoded unless a person changes it (CLI and Playground alike): 4 beams that never repeat a
# 3-gram, the usual choice for trained summarizers. For the tiny default model it is within run-to-run noise
# of greedy: ROUGE-L 0.216 against 0.207 greedy in one default run, 0.187 against 0.210 in another
# (tests/benchmarks/quality.py prints both for the run it trains).
SUMMARY_DEFAULTS: dict[str, int] = {"num_beams": 4, "no_repeat_ngram_size": 3}


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

    def with_preset(self, name: str) -> Sampling:
        if name not in PRESETS:
            raise ConfigError(f"There is no preset '{name}'; choose one of {', '.join(PRESETS)}.")
        return replace(self, **PRESETS[name])

    def preset_name(self) -> str | None:
        """The preset these settings match, or None when a person has changed one of them."""
        mine = asdict(self)
        for name, values in PRESETS.items():
            if all(abs(float(mine[key]) - float(value)) < 1e-9 for key, value in values.items()):
                return name
        return None

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

    @property
    def samples(self) -> bool:
        return not self.greedy and self.num_beams == 1

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Sampling:
        """The settings among a request's options (the flags of `studio generate`, the Playground's form)."""
        return cls(**{k: options[k] for k in cls.__dataclass_fields__ if options.get(k) is not None})


def options(*, beams: int, max_new: int, lengths: bool = False) -> tuple[Setting, ...]:
    """The decoding flags of a command that writes text; `lengths` adds the length controls of beam search."""
    found = (Setting("max_new_tokens", "int", max_new, metavar="N", help="the most tokens to write"),
             Setting("temperature", "float", 0.8, metavar="T",
                     help="how adventurous sampling is: lower is safer and more repetitive, higher more varied"),
             Setting("top_k", "int", 50, metavar="K", help="sample among the K likeliest tokens only (0: all)"),
             Setting("top_p", "float", 0.95, metavar="P",
                     help="sample among the likeliest tokens that together hold this much probability"),
             Setting("repetition_penalty", "float", 1.0, metavar="X",
                     help="above 1 makes tokens already written less likely (1 is off)"),
             Setting("seed", "int", None, metavar="N", help="the same seed samples the same text"),
             Setting("greedy", "bool", False, help="always take the most likely token"),
             Setting("num_beams", "int", beams, metavar="N",
                     help="keep the N likeliest sequences at each step (beam search; 1 samples)"))
    if lengths:
        found += (Setting("length_penalty", "float", 1.0, help=">1 favours longer answers (beams only)", metavar="X"),
                  Setting("min_new_tokens", "int", 0, metavar="N", help="write at least this many tokens"),
                  Setting("no_repeat_ngram_size", "int", SUMMARY_DEFAULTS["no_repeat_ngram_size"], metavar="N",
                          help="never repeat a run of this many tokens (0 is off)"))
    return found
