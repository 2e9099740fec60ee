#!/usr/bin/env bash
# Creates .venv-pyqt6 with the Qt 6.6 the tests use as a real peer (PyQt6 6.6.1 with Qt 6.6.3, from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv-pyqt6/bin/python -c "import PyQt6.QtCore" 2>/dev/null; then
  python3 -m venv .venv-pyqt6
  .venv-pyqt6/bin/pip install --quiet --disable-pip-version-check PyQt6==6.6.1 PyQt6-Qt6==6.6.3
fi
.venv-pyqt6/bin/python -c "from PyQt6.QtCore import qVersion; print('PyQt6 peer: Qt', qVersion())"
