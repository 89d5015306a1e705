"""thidua-bot's composition root: CLI, channels and conversation flows."""
