"""BPMN intake: hardened loading, the TTHC profile and the policy linter (no Flask, no database)."""
