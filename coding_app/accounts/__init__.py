"""Accounts and roles: creating users, the role groups and what each role may
open (the ``role_required`` decorator, the navigation, the MFA rule).
"""
