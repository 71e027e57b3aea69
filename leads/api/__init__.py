"""The REST API under /api/v1/: leads and their activity pushed by integrations, read back."""
