"""The layering rules of DESIGN.md, checked: core never touches Qt, and `import studio` stays light."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT = ("PySide6", "pyqtgraph", "superqt", "studio.ui", "PyQt5", "PyQt6")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_qt_imports_in_core_or_cli():
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in _imports(p) if n.startswith(QT))
                 for folder in ("studio/core", "studio/cli") for p in (ROOT / folder).rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_import_linter_contract_holds():
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_importing_studio_and_the_cli_is_light():
    code = "import sys, studio, studio.cli, studio.core.errors; " \
           "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'PySide6') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
def test_core_trains_and_generates_with_pyside6_blocked(tmp_path, lm_text):
    script = textwrap.dedent(f"""
        import sys
        for name in ("PySide6", "pyqtgraph", "superqt"):
            sys.modules[name] = None  # any import of them now raises ImportError
        from pathlib import Path
        from studio.core.training.config import RunConfig
        from studio.core.training import engine
        from studio.core.playground import generation
        from studio.core.tasks import loaded as inference
        from studio.core.playground.sampling import Sampling
        config = RunConfig(data={str(lm_text)!r}, vocab_size=300, seq_len=16, batch_size=4, max_steps=3,
                           eval_every=3, save_every=3, device="cpu")
        result = engine.train(config, root=Path({str(tmp_path)!r}), out=Path({str(tmp_path / 'run')!r}))
        text = generation.generate(inference.load(result.model_dir), "def",
                                   Sampling(max_new_tokens=3, greedy=True)).text
        assert result.status == "completed", result
        loaded = [m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "superqt")
                  and sys.modules[m] is not None]
        print("OK", loaded)
    """)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK []")
