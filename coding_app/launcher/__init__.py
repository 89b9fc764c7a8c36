"""The run tooling: the run command (``python -m coding_app.launcher``), the
embedded PostgreSQL and Redis, the service checks and the demo accounts.
"""
