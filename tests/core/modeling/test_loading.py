"""Loading a saved model: weights are copied on the calling thread, never by a pool of loader threads."""

from __future__ import annotations

import threading

from studio.core.modeling import loading


def test_a_model_loads_without_starting_loader_threads(lm_run, monkeypatch):
    import transformers.core_model_loading as core_loading

    started: list[str] = []
    real_pool = core_loading.ThreadPoolExecutor

    def spying_pool(*args, **kwargs):
        started.append(threading.current_thread().name)
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(core_loading, "ThreadPoolExecutor", spying_pool)
    model, fresh = loading.load_pretrained(str(lm_run / "model"), "AutoModelForCausalLM")
    assert fresh == [] and sum(p.numel() for p in model.parameters()) > 0
    assert started == []
