"""The request type of a view that reads ``request.htmx``.

It lives in the core because pages of every app answer htmx (the code search
here, uploads in worker, the desk in review) and the core is the one package
they may all import. django-htmx's middleware (settings) sets the attribute on
every request; this class only tells the type checker so.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
