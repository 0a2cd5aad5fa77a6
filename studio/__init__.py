"""Transformer Studio: train, run and look inside transformer language models on your own machine.

Importing this package is cheap on purpose: torch and transformers are imported by the modules that
need them, so the window (and `studio --help`) appear before the heavy imports finish.
"""

import os

__version__ = "0.1.0"

# trl's trainers report each training run to the Hugging Face Hub unless this is set; a desktop program does
# not tell a server what a person trains without asking. Set it to 0 to allow it.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
