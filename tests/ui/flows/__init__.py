"""Flows through several panels of the window, one module per family of tasks (and the plug-in task)."""
