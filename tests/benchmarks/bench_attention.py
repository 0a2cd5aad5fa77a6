"""The Attention inspector at scale: a 12-layer, 12-head model on 512 tokens.

Figures (milliseconds, medians, the window painted each time):
- `summary_ms`: statistics and thumbnails over all heads (in the app, in the background job).
- `grid_ms`: from extraction's end to the head grid and the first map on screen: `summary_ms` plus
  the mosaic, the map and the paint. Target under 1000. `grid_ms_first` is the first time.
- `switch_ms`: changing layer or head until the new map is painted. Target under 100.
- `bare_ms`: the plain baseline, one pyqtgraph ImageItem given the same 512 x 512 matrix and painted.
Extraction itself (the model's forward pass) is reported but not part of either figure.
"""

from __future__ import annotations

import argparse
import os
import time

from _common import median, open_window, report, scratch, tiny_tokenizer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--switches", type=int, default=30)
    args = parser.parse_args()
    root = scratch()

    import numpy as np
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from studio.core.attention import extract as attention
    from studio.core.attention import stats as attention_stats
    from studio.core.attention.stats import summarise
    from studio.core.tasks import loaded as inference

    tokenizer = tiny_tokenizer()
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=args.tokens, n_layer=12, n_head=12, n_embd=384,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(root / "model")
    tokenizer.save_pretrained(root / "model")
    loaded = inference.load(str(root / "model"), attn_implementation="eager")
    rng = np.random.default_rng(0)
    text = tokenizer.decode(rng.integers(10, len(tokenizer), args.tokens * 2).tolist())

    app, window = open_window(root)
    panel = window.attention_panel
    window.tabs.setCurrentWidget(panel)
    settle = time.perf_counter() + 2.0  # start-up work (device probe, the wizard's estimate) ends first,
    while time.perf_counter() < settle:  # as it has long before a person has loaded a model and typed
        app.processEvents()
        time.sleep(0.01)
    panel._model_loaded(loaded)  # what the app does when the model has loaded

    started = time.perf_counter()
    att = attention.extract(loaded, text)
    induction = attention_stats.induction(loaded.model, loaded.tokenizer)
    extract_ms = (time.perf_counter() - started) * 1000
    shape = att.attentions.shape

    def painted() -> None:
        app.processEvents()
        window.repaint()

    grids, summaries = [], []
    for _ in range(4):
        started = time.perf_counter()
        summary = summarise(att, induction)
        summaries.append((time.perf_counter() - started) * 1000)
        panel._extracted(att, summary)
        painted()
        grids.append((time.perf_counter() - started) * 1000)

    switches = []
    if os.environ.get("PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(6):
            panel.layer.setValue(i)
            painted()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    for i in range(args.switches):
        started = time.perf_counter()
        if i % 2:
            panel.layer.setValue((panel.layer.value() + 5) % shape[0])
        else:
            panel.head.setCurrentIndex((panel.head.currentIndex() + 7) % shape[1])
        painted()
        switches.append((time.perf_counter() - started) * 1000)

    import pyqtgraph as pg

    bare_plot = pg.PlotWidget()
    bare_plot.resize(600, 600)
    bare_plot.show()
    image = pg.ImageItem(axisOrder="row-major")
    bare_plot.addItem(image)
    bare = []
    for i in range(args.switches):
        matrix = att.attentions[i % shape[0], (i * 7) % shape[1]]
        started = time.perf_counter()
        image.setImage(matrix, levels=(0.0, float(matrix.max())), autoLevels=False)
        app.processEvents()
        bare_plot.repaint()
        bare.append((time.perf_counter() - started) * 1000)

    report("attention_inspector", {
        "layers": shape[0], "heads": shape[1], "tokens": shape[2], "extract_ms": round(extract_ms),
        "summary_ms": round(median(summaries), 1), "grid_ms": round(median(grids), 1),
        "grid_ms_first": round(grids[0], 1), "summary_ms_first": round(summaries[0], 1),
        "switch_ms": round(median(switches), 1), "switch_ms_max": round(max(switches), 1),
        "bare_ms": round(median(bare), 1), "switch_vs_bare": round(median(switches) / median(bare), 2)})


if __name__ == "__main__":
    main()
