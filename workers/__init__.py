"""shinsei's Celery workers: `celery -A workers worker` / `celery -A workers beat` (or `shinsei worker`).

The app is `workers.app.app`; the tasks (thin wrappers over `pipeline.intake.jobs` and `pipeline.intake.nightly`)
are in `workers.tasks`; configuration is the top-level `celeryconfig` module. Every worker also
re-queues documents whose holder died or whose message was lost (`workers.sweep`, a bootstep).
"""

from workers.app import app

celery = app

__all__ = ["app", "celery"]
