"""How sure the model was of each generated token, and what else it would have said.

Log-probabilities are the model's own (temperature 1, before top-k/top-p and penalties), from one
teacher-forced forward pass over the finished sequence: `generate` only exposes scores after its
processors, and the untouched distribution is what tells a person how sure the model was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.modeling import shapes

TOP_ALTERNATIVES = 5


@dataclass
class Alternative:
    text: str
    id: int
    logprob: float


def score(loaded: Any, prompt: list[int], new: list[int],
          top: int = TOP_ALTERNATIVES) -> tuple[list[float], list[list[Alternative]]]:
    """Log-probability of each token in `new` after `prompt`, and the `top` likeliest tokens at each place."""
    if not new:
        return [], []
    import torch

    model, tok = loaded.model, loaded.tokenizer
    with torch.inference_mode():
        logp = torch.log_softmax(shapes.continuation_logits(model, prompt, new).float(), dim=-1)
        picked = logp.gather(1, torch.tensor(new, device=loaded.device)[:, None])[:, 0].cpu().tolist()
        best = logp.topk(min(top, logp.shape[-1]), dim=-1)
        best_values, best_ids = best.values.cpu().tolist(), best.indices.cpu().tolist()
    alternatives = [[Alternative(tok.decode([i], skip_special_tokens=False), i, round(v, 6))
                     for i, v in zip(ids, values)] for ids, values in zip(best_ids, best_values)]
    return [round(v, 6) for v in picked], alternatives
