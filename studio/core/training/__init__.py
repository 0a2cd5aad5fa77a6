"""Training: the engine that runs Hugging Face Trainer for a run folder, and the events it reports.

Import `studio.core.training.engine` lazily: it pulls in torch and transformers.
"""
