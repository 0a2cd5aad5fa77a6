"""`sample:python-prefer`: preference pairs about the Python standard library, made from its own sources.

The questions of `sample:python-chat` (what a function does, which module a name comes from, its
signature), each with two answers: the chosen one answers the question asked about the function asked,
from the source; the rejected one either answers it about another function (another docstring, another
module, another signature) or answers another question about the same function (its signature when asked
what it does). So a preferred answer is the one that answers the question asked, about the name asked,
which even a tiny model can learn to tell from the words of the question and the answer.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from studio.core.data import chat_sample

_MAX_PAIRS = 6_000
_SEED = 21  # fixed, so the sample is the same every time for the same Python
_KINDS = ("does", "module", "signature")


def rows() -> Iterator[dict]:
    """Pairs in trl's conversational shape: `prompt` messages, `chosen` and `rejected` assistant messages."""
    functions = [f for f in chat_sample.functions() if len(f.signature) <= chat_sample.MAX_SIGNATURE_CHARS]
    rng = random.Random(_SEED)
    rng.shuffle(functions)
    for count in range(min(_MAX_PAIRS, 2 * len(functions))):  # each function twice, asked two things
        subject = functions[count % len(functions)]
        prompt = []
        if rng.random() < 0.3:
            prompt.append({"role": "system", "content": rng.choice(chat_sample.SYSTEM_PROMPTS)})
        kind = rng.choice(_KINDS)
        if rng.random() < 0.2:  # an earlier exchange about the same function
            earlier = rng.choice([k for k in _KINDS if k != kind])
            question, answer = chat_sample.exchange(earlier, subject, rng)
            prompt += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        question, chosen = chat_sample.exchange(kind, subject, rng)
        if rng.random() < 0.5:
            other = functions[(count + 1 + rng.randrange(len(functions) - 1)) % len(functions)]
            _, rejected = chat_sample.exchange(kind, other, rng)
        else:
            _, rejected = chat_sample.exchange(rng.choice([k for k in _KINDS if k != kind]), subject, rng)
        if rejected == chosen:
            continue
        yield {"prompt": [*prompt, {"role": "user", "content": question}],
               "chosen": [{"role": "assistant", "content": chosen}],
               "rejected": [{"role": "assistant", "content": rejected}]}
