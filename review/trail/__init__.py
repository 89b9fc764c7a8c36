"""The audit trail as auditors read it: browse, filter, export, open a note.

The trail itself (model, writer, kinds) is the core's (``coding_app.audit``);
these pages stay in ``review`` because they show what only review and worker
know: a note's external id and text, its predictions and its reviews.
"""
