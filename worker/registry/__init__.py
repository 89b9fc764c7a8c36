"""The model registry: versions, which one is active, promotion and rollback,
and loading a promoted adapter into a running model server.
"""
