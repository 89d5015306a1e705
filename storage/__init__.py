"""Persistence for thidua-bot: models, migrations and keyword-only storage functions."""
