"""The web app: pages for teachers, students and admins, served by the API's own FastAPI app under `/`.

Pages are thin routes over the same domain functions and access checks as the
API (`api/deps.py`); their templates live in `templates/`, their CSS and
JavaScript in `static/` (no build step, nothing from another site).
"""
