"""Imported by the workers' forkserver as it starts (api.workers.PRELOAD) and by nothing else:
the forkserver then dies with the service that started it (api.lifeline says why)."""

from api.lifeline import die_with_parent

die_with_parent()
