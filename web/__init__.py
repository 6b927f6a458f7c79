"""The review web page (FastAPI + Jinja2): clerks settle flagged fields with the keyboard alone.

`web.app.create_app(settings)` builds the application; `shinsei serve` runs it with uvicorn.
"""
