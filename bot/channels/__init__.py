"""Custom Rasa 3.6 input channels: the authenticated web REST channel and the WeChat Official Account."""

# Rasa imports this package at start (bot/credentials.yml): apply the start-up performance patches here.
from bot import perf as _perf

_perf.apply()
