"""Imported by the workers' forkserver as it starts (api.workers.PRELOAD) and by nothing else:
the forkserver then exits with the service that started it (api.lifeline says why)."""

from api.lifeline import exit_with_parent

exit_with_parent()
