"""The channel-neutral conversation engine: Incoming in, Replies out, state in the database."""
