"""Operations: each process's metrics/health port (ops/exporter.py), the Rasa server's and the action server's
metrics (ops/rasa_metrics.py, ops/actions_metrics.py), labelled with a turn's outcome (contracts/outcome.py).
The backend's own metrics are in backend/metrics.py. Importable from both venvs (Rasa's Python 3.10 and the
app's 3.11)."""
