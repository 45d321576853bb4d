"""Deployment: Rasa's entry point (rasa_run.py) and the service, alert and dashboard files (systemd/,
prometheus/, grafana/). The checks and log redaction every process shares are in contracts/."""
