"""Evidence that coders give: words of the note marked for one of their codes.

``services`` holds the rules and writes, ``forms`` parses what the page
sends, ``views`` are the two endpoints (mark, remove).
"""
