"""The coder's desk: the queue and its leases, the review page, and the rules
of a coder's decisions.
"""
