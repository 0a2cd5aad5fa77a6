"""What a classifier's prediction rests on: each token's contribution toward a chosen label, to be
shown beside where the pooled token ([CLS] for BERT, the last token for GPT-2) attends.

Attributions come from Captum on the input embeddings: integrated gradients (Sundararajan et al.,
2017) from a baseline that keeps the template's special tokens and pads the rest, with an
`internal_batch_size` so the interpolation steps fit in memory; or gradient x input, one backward pass.
Integrated gradients satisfy completeness: the attributions add up to the label's logit at the text
minus at the baseline, and the difference left over (`delta`) says how well the steps approximated it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core.data.encoding import encode
from studio.core.errors import ConfigError
from studio.core.modeling import shapes
from studio.core.modeling.batches import softmax
from studio.core.modeling.loaded import LoadedModel

METHODS = {"integrated-gradients": "Integrated gradients", "gradient-x-input": "Gradient × input"}


@dataclass
class Attribution:
    tokens: list[str]
    scores: np.ndarray  # [tokens] signed: positive pushes toward the label, negative away from it
    label: str
    method: str
    probabilities: dict[str, float]
    pooled: int  # the token whose representation the classification head reads
    special: list[bool]  # template tokens ([CLS], [SEP], <s>, ...)
    delta: float | None = None  # integrated gradients: logit difference the attributions do not account for


def pooled_index(loaded: LoadedModel, length: int) -> int:
    """The position the classifier's head reads: the first token of an encoder, the last of a decoder."""
    return 0 if loaded.shape == shapes.ENCODER else length - 1


def attribute(loaded: LoadedModel, text: str, label: str | None = None, *, method: str = "integrated-gradients",
              steps: int = 32, internal_batch_size: int = 8) -> Attribution:
    """Attribute the model's logit for `label` (default: the predicted one) to the tokens of `text`."""
    import torch
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    if not loaded.task.attributable:
        raise ConfigError(f"Attributions explain a classifier's label; '{loaded.source}' is a "
                          f"{loaded.task.title.lower()} model.")
    if method not in METHODS:
        raise ConfigError(f"Unknown attribution method '{method}'; choose one of {', '.join(METHODS)}.")
    if not text.strip():
        raise ConfigError("There is no text to explain; type a few words.")
    model, tok = loaded.model, loaded.tokenizer
    ids = encode(tok, [text], limit=loaded.input_limit)[0]
    special_ids = set(tok.all_special_ids)
    special = [i in special_ids for i in ids]
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    inputs = torch.tensor([ids], device=loaded.device)
    baseline = torch.tensor([[i if s else pad for i, s in zip(ids, special)]], device=loaded.device)
    mask = torch.ones_like(inputs)
    with torch.inference_mode():
        probabilities = softmax(model(input_ids=inputs, attention_mask=mask).logits[0].float().cpu().numpy())
    names = loaded.labels
    target = int(probabilities.argmax()) if label is None else _label_index(names, label)

    def logits(input_ids: Any, attention_mask: Any) -> Any:
        return model(input_ids=input_ids, attention_mask=attention_mask.expand_as(input_ids)).logits

    embeddings = model.get_input_embeddings()
    delta = None
    with torch.enable_grad():
        if method == "integrated-gradients":
            result, convergence = LayerIntegratedGradients(logits, embeddings).attribute(
                inputs, baselines=baseline, target=target, additional_forward_args=(mask,), n_steps=steps,
                internal_batch_size=internal_batch_size, return_convergence_delta=True)
            delta = float(convergence.abs().max())
        else:
            result = LayerGradientXActivation(logits, embeddings).attribute(
                inputs, target=target, additional_forward_args=(mask,))
    scores = result.sum(dim=-1)[0].detach().float().cpu().numpy()
    tokens = [tok.decode([i], skip_special_tokens=False) for i in ids]
    return Attribution(tokens, scores, names[target], method, {n: float(p) for n, p in zip(names, probabilities)},
                       pooled_index(loaded, len(ids)), special, delta)


def _label_index(names: list[str], label: str) -> int:
    if label not in names:
        raise ConfigError(f"The model has no label '{label}'; its labels are {', '.join(names)}.")
    return names.index(label)


def agreement(attention: np.ndarray, scores: np.ndarray, keep: list[bool]) -> float | None:
    """Spearman rank correlation between where the pooled token attends and how much each token matters
    (|attribution|), over the tokens kept; None when there are too few to rank."""
    a, b = np.asarray(attention)[keep], np.abs(np.asarray(scores))[keep]
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)
