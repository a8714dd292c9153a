"""Runs the pure coach on a real clock with real adapters (speaker, listener, HTTP)."""
