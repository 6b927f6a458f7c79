"""shinsei's Celery workers: `celery -A workers worker` / `celery -A workers beat` (or `shinsei worker`).

The app is `workers.app.app`; the tasks (thin wrappers over `pipeline.jobs` and `pipeline.batch`)
are in `workers.tasks`; configuration is the top-level `celeryconfig` module.
"""

from workers.app import app

celery = app

__all__ = ["app", "celery"]
