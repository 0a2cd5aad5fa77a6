"""Transformer Studio: train, run and look inside transformer language models on your own machine.

Importing this package is cheap on purpose: torch and transformers are imported by the modules that
need them, so the window (and `studio --help`) appear before the heavy imports finish.
"""

__version__ = "0.1.0"
