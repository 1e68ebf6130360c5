"""Dossier use cases (hồ sơ): receive, claim, complete, supplement, apology, close."""
from services.dossiers.lifecycle import close, hand_over, issue_apology, resume, stop_clock
from services.dossiers.receive import next_code, receive
from services.dossiers.completion import Completion, complete
from services.dossiers.steps import claim, unclaim

__all__ = ["Completion", "receive", "next_code", "claim", "unclaim", "complete", "stop_clock", "resume",
           "issue_apology", "close", "hand_over"]
