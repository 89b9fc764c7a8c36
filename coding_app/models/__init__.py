"""Every model of the ``coding_app`` app, where Django and the other apps
look for them. Each lives with its sub-domain (``accounts``, ``codes``,
``audit``); inside ``coding_app`` import from there, not from here, so the
sub-domains never depend on each other through this module."""

from coding_app.accounts.models import User
from coding_app.audit.models import AuditEvent
from coding_app.codes.models import Code, CodeRelease

__all__ = ["AuditEvent", "Code", "CodeRelease", "User"]
