"""Rendering of documents for people: HTML (Jinja2), charts and maps (matplotlib, PNG),
workbooks (openpyxl) and PDF (headless Chromium printing the HTML).

Reports and profiles assemble their figures elsewhere (``app/services/reports``); this
package only turns figures into pages, images and files, in German.
"""
