"""Recipes: scripts that re-make committed assets (digit classifier, name readings, form blanks).

Nothing here runs when shinsei reads a page; each file says what it writes and how to run it.
"""
