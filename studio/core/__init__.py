"""The Qt-free engine: data, tokenizers, models, training, generation, attention and the run store.

Nothing here imports Qt or `studio.ui`; only dataclasses, Python scalars and numpy arrays leave it.
"""
