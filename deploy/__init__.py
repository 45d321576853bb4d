"""Deployment helpers shared by all three processes (plain Python: imported from both venvs)."""
