"""A conversation's turns drawn along both axes of an attention map: a coloured band per turn (system,
user, assistant) left of the rows and above the columns, and a faint line where each turn begins, so a
person sees which earlier turn an answer's tokens look at. The two texts of a pair (a question and its
context) are drawn the same way, as parts."""

from __future__ import annotations

from typing import Any

ROLE_COLOURS = {"system": "#8c8c8c", "user": "#4c8bf5", "assistant": "#f0883e"}
_PART_COLOURS = ("#4c8bf5", "#3fb950", "#f0883e", "#bc8cff")  # a pair's parts, in order
_LINE = (255, 255, 255, 110)


def band_width(tokens: int) -> float:
    """Wide enough to see at any zoom, narrow enough to leave the map its room: 3% of the tokens."""
    return max(0.6, 0.03 * tokens)


def is_conversation(turns: list[tuple[str, int, int]]) -> bool:
    return any(role in ROLE_COLOURS for role, _, _ in turns)


def colours(turns: list[tuple[str, int, int]]) -> dict[str, str]:
    """Each role's colour: a conversation's by role, a pair's parts by their order."""
    roles = list(dict.fromkeys(role for role, _, _ in turns))
    if is_conversation(turns):
        return {r: ROLE_COLOURS.get(r, "#aaaaaa") for r in roles}
    return {r: _PART_COLOURS[i % len(_PART_COLOURS)] for i, r in enumerate(roles)}


def legend(turns: list[tuple[str, int, int]]) -> str:
    """The roles present, as coloured squares with their names (rich text)."""
    title = "Turns" if is_conversation(turns) else "Parts"
    return f"{title}: " + "&nbsp;&nbsp;".join(f'<span style="color:{c}">■</span> {r}'
                                              for r, c in colours(turns).items())


def turn_at(turns: list[tuple[str, int, int]], token: int) -> str:
    """Which turn (or part) a token is in, as a person reads it ("turn 3, assistant", "context"); "" outside."""
    for number, (role, start, end) in enumerate(turns, 1):
        if start <= token < end:
            return f"turn {number}, {role}" if is_conversation(turns) else role
    return ""


class TurnBands:
    """The band and line items of one plot, replaced whenever the turns shown change."""

    def __init__(self, plot_item: Any) -> None:
        self._plot = plot_item
        self._items: list[Any] = []
        self.turns: list[tuple[str, int, int]] = []

    def show(self, turns: list[tuple[str, int, int]], size: int) -> float:
        """Draw `turns` for a `size` x `size` map; the room the bands take before 0 on each axis."""
        import pyqtgraph as pg
        from PySide6.QtGui import QBrush, QColor, QPen
        from PySide6.QtWidgets import QGraphicsRectItem

        for item in self._items:
            self._plot.removeItem(item)
        self._items, self.turns = [], list(turns)
        if not turns:
            return 0.0
        width = band_width(size)
        palette = colours(turns)
        for role, start, end in turns:
            colour = QColor(palette[role])
            for rect in ((-width, start, width, end - start), (start, -width, end - start, width)):
                band = QGraphicsRectItem(*rect)
                band.setBrush(QBrush(colour))
                band.setPen(QPen(QColor(0, 0, 0, 0)))
                band.setToolTip(role)
                self._items.append(band)
            if start > 0:
                pen = pg.mkPen(_LINE, width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
                self._items += [pg.InfiniteLine(start, angle=0, pen=pen), pg.InfiniteLine(start, angle=90, pen=pen)]
        for item in self._items:
            self._plot.addItem(item)
        return width
