"""Channel adapters: translate a platform's updates to Incoming and Replies back."""
