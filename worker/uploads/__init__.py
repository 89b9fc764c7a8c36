"""Notes in: uploads from the browser, the API and the command line, checked
row by row and stored as notes with their reference codes.
"""
