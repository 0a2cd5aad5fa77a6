"""The editor of one declared setting (studio.core.settings.Setting): a spin box, a check box, a list or
a line, with the setting's range, step, unit, words and help, so a form is built from declarations and
a new task's setting appears in the wizard without a line of UI code."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLineEdit,
    QSpinBox,
    QStyle,
    QWidget,
)

from studio.core.settings import Setting

_INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int


def object_name(setting: Setting) -> str:
    """The widget's name for tests and screen readers: maxSteps for max_steps."""
    head, *rest = setting.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


class SettingField(QObject):
    changed = Signal()

    def __init__(self, setting: Setting, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setting = setting
        self.widget = self._build(setting)
        self.widget.setObjectName(object_name(setting))
        self.widget.setToolTip(_sentence(setting.help))
        self.set_value(setting.default)

    @property
    def title(self) -> str:
        return self.setting.title

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QLineEdit):
            return w.text()
        return w.value()

    def set_value(self, value: Any) -> None:
        w = self.widget
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(max(0, w.findData(value)))
        elif isinstance(w, QLineEdit):
            w.setText(str(value))
        else:
            w.setValue(value)

    def _build(self, s: Setting) -> QWidget:
        if s.kind == "bool":
            box = QCheckBox(s.title)
            box.toggled.connect(self.changed)
            return box
        if s.choices:
            combo = QComboBox()
            for choice in s.choices:
                combo.addItem(choice, choice)
            combo.currentIndexChanged.connect(self.changed)
            return combo
        if s.kind == "str":
            line = QLineEdit(placeholderText=s.placeholder)
            line.textChanged.connect(self.changed)
            if s.metavar == "FILE":  # a path: typed, or chosen from the button at the box's end
                icon = line.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon)
                choose = line.addAction(icon, QLineEdit.ActionPosition.TrailingPosition)
                choose.setObjectName(f"{object_name(s)}Browse")
                choose.setToolTip(f"Choose the file ({s.title.lower() or s.name})")
                choose.triggered.connect(lambda: self._choose_file(line))
            return line
        spin: QSpinBox | QDoubleSpinBox
        if s.kind == "int":
            spin = QSpinBox()
            spin.setRange(int(min(self._lowest(s), _INT_LIMIT)), int(min(s.high if s.high is not None
                                                                         else _INT_LIMIT, _INT_LIMIT)))
        else:
            spin = QDoubleSpinBox(decimals=s.decimals)
            smallest = 10 ** -s.decimals
            low = self._lowest(s) + (smallest if s.above else 0)
            high = (s.high - (smallest if s.below else 0)) if s.high is not None else 1e9
            spin.setRange(low, high)
        spin.setSingleStep(s.step)
        spin.setSuffix(s.suffix)
        if s.words:  # the lowest value reads as its word: "auto" batch, "Off" early stopping
            spin.setSpecialValueText(s.words[0][1])
        spin.valueChanged.connect(self.changed)
        return spin

    def _choose_file(self, line: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(line, f"Choose a file: {self.setting.title or self.setting.name}",
                                              line.text())
        if path:
            line.setText(path)

    @staticmethod
    def _lowest(s: Setting) -> float:
        worded = [v for v, _ in s.words if isinstance(v, (int, float))]
        low = s.low if s.low is not None else 0
        return min([low, *worded])


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else ""
