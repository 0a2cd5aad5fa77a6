"""The desktop window: the only place PySide6, pyqtgraph and superqt are imported (see DESIGN.md)."""
