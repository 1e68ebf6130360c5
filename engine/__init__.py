"""Execution: working-time calendar, SLA, the dossiers' SpiffWorkflow runtime (no Flask, no database)."""
