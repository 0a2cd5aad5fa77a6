"""Streaming in the Playground against raw `model.generate` on the same model, device and settings.

The window's path is the whole of it: the Generate button, the background job, the token deque, the
~60 Hz drain into the text view and the finishing pass (log-probs, colours). Greedy decoding of a
fixed count of new tokens (the model's end token is switched off for both sides).

`view_ratio`: tokens/s counted from the click to the last token appearing in the view.
`end_to_end_ratio`: until the Playground has finished (figures shown, tokens ready to colour).
Target: view_ratio >= 0.9.
"""

from __future__ import annotations

import argparse
import time

from _common import median, open_window, raw_generate_rate, report, saved_preset, scratch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="gpt-tiny")
    parser.add_argument("--new-tokens", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = scratch()
    model_dir, tokenizer = saved_preset(root, args.model, positions=args.new_tokens + 16)

    import torch
    from PySide6.QtCore import QEventLoop

    app, window = open_window(root)  # noqa: F841 - the application must outlive the run
    panel = window.playground_panel
    window.tabs.setCurrentWidget(panel)
    picker, column = panel.pickers[0], panel.columns[0]
    loop = QEventLoop()
    picker.loaded.connect(lambda _: loop.quit())
    picker.choose(str(model_dir))
    picker.load()
    loop.exec()
    loaded = picker.model
    gen = loaded.model.generation_config
    gen.eos_token_id = None  # exactly --new-tokens on both sides
    # an untrained model picks stray UTF-8 bytes; keep it to whole characters so the text can be compared
    gen.suppress_tokens = [i for i in range(len(tokenizer)) if "\ufffd" in tokenizer.decode([i])]
    panel.form.greedy.setChecked(True)
    panel.form.max_tokens.setValue(args.new_tokens)
    prompt = "def add(a, b):\n    return"
    panel.prompt.setPlainText(prompt)
    ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]], device=loaded.device)

    def raw() -> float:
        return raw_generate_rate(loaded.model, ids, args.new_tokens, tokenizer.pad_token_id)

    shown = {"at": 0.0, "chars": 0}
    append = column.view.append

    def timed_append(text: str) -> None:
        append(text)
        shown["at"], shown["chars"] = time.perf_counter(), shown["chars"] + len(text)

    column.view.append = timed_append

    def playground() -> tuple[float, float]:
        shown["chars"] = 0
        done = QEventLoop()
        column.finished.connect(done.quit)
        started = time.perf_counter()
        panel.run_button.click()
        done.exec()
        ended = time.perf_counter()
        column.finished.disconnect(done.quit)
        result = column.result
        assert len(result.tokens) == args.new_tokens and shown["chars"] == len(result.text)
        return args.new_tokens / (shown["at"] - started), args.new_tokens / (ended - started)

    raw(), playground()  # warm-up
    raw_tps, view_tps, end_tps = [], [], []
    for _ in range(args.rounds):
        raw_tps.append(raw())
        v, e = playground()
        view_tps.append(v)
        end_tps.append(e)
    report("playground_streaming", {
        "model": args.model, "device": loaded.device, "new_tokens": args.new_tokens, "rounds": args.rounds,
        "raw_tokens_per_second": round(median(raw_tps), 1),
        "playground_view_tokens_per_second": round(median(view_tps), 1),
        "playground_end_to_end_tokens_per_second": round(median(end_tps), 1),
        "view_ratio": round(median(view_tps) / median(raw_tps), 3),
        "end_to_end_ratio": round(median(end_tps) / median(raw_tps), 3)})


if __name__ == "__main__":
    main()
