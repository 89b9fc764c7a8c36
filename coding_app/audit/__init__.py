"""The audit trail every app writes: who viewed or changed what, and when.

``models`` holds the append-only ``AuditEvent``, ``kinds`` the registry where
each app declares its own kinds of event, ``services`` the one writer and
``selectors`` the reads that need no other app's tables. The trail refers to
notes, tasks and reviews by id only, so it outlives what it describes and
the core imports no other app.
"""
