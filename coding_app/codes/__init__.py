"""The ICD-10-CM code system: the release, its hierarchy, and what is built on it.

Pure modules (no database): ``entry``, ``forms``, ``release``, ``hierarchy``,
``normalize``, ``excludes``, ``assignment``, ``diff``, ``metrics``,
``completion``, ``reward``. Database-backed: ``loading`` (writes a release),
``store`` (the active release's hierarchy), ``search``, ``views``.
"""
