"""Execution: working-time calendar, SpiffWorkflow runtime, safe expressions (no Flask, no database)."""
