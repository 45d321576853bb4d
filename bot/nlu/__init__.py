"""Custom NLU components of the assistant (referenced by module path in bot/config.yml)."""
