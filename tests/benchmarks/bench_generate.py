"""Generation speed: Studio's streaming `generate` against raw `model.generate`, same model and settings.

Greedy decoding of a fixed number of new tokens (min = max, so both sides produce exactly as many).
`stream_ratio` compares the tokens/s Studio reports (the generation itself, with streaming and the stop
check) with raw generate; `end_to_end_ratio` also charges Studio's extra forward pass for log-probs.
With `--chat`, a Llama preset with a ChatML tokenizer answers a two-turn conversation through the chat
task's path (its template rendered, turn-end stops) against raw generate on `apply_chat_template(...,
add_generation_prompt=True)`. Target >= 0.95.
"""

from __future__ import annotations

import argparse
import time

from _common import median, raw_generate_rate, report, saved_preset, scratch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="gpt-tiny")
    parser.add_argument("--new-tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--chat", action="store_true", help="the chat path (llama-tiny with ChatML)")
    args = parser.parse_args()

    import torch

    from studio.core.control import Control
    from studio.core.playground import generation
    from studio.core.playground.sampling import Sampling
    from studio.core.tasks import loaded as inference

    prompt = "def add(a, b):\n    return"
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What does len do?"},
                {"role": "assistant", "content": "It counts items."}, {"role": "user", "content": "And abs?"}]
    if args.chat:
        from transformers import AutoTokenizer

        from tests.helpers import write_chat_model

        model_dir = scratch() / "chat-model"
        write_chat_model(model_dir)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    else:
        model_dir, tokenizer = saved_preset(scratch(), args.model)
        text = prompt
    loaded = inference.load(str(model_dir), device=args.device)
    ids = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]], device=loaded.device)
    sampling = Sampling(max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, greedy=True)

    def raw() -> float:
        return raw_generate_rate(loaded.model, ids, args.new_tokens, tokenizer.pad_token_id,
                                 min_new_tokens=args.new_tokens)

    def studio() -> tuple[float, float]:
        pieces = []
        started = time.perf_counter()
        if args.chat:
            result = generation.chat(loaded, messages, sampling, on_token=pieces.append, control=Control())
        else:
            result = generation.generate(loaded, prompt, sampling, on_token=pieces.append, control=Control())
        wall = time.perf_counter() - started
        assert len(result.tokens) == args.new_tokens == len(pieces)
        return result.tokens_per_second, args.new_tokens / wall

    raw(), studio()  # warm-up: kernels, caches, allocator
    raw_tps, stream_tps, wall_tps = [], [], []
    for _ in range(args.rounds):
        raw_tps.append(raw())
        s, w = studio()
        stream_tps.append(s)
        wall_tps.append(w)
    report("chat_throughput" if args.chat else "generate_throughput", {
        "model": "llama-tiny (ChatML)" if args.chat else args.model, "device": loaded.device, "new_tokens": args.new_tokens, "rounds": args.rounds,
        "raw_tokens_per_second": round(median(raw_tps), 1),
        "studio_tokens_per_second": round(median(stream_tps), 1),
        "studio_end_to_end_tokens_per_second": round(median(wall_tps), 1),
        "stream_ratio": round(median(stream_tps) / median(raw_tps), 3),
        "end_to_end_ratio": round(median(wall_tps) / median(raw_tps), 3)})


if __name__ == "__main__":
    main()
