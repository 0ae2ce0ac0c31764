"""Import engine (issue 8.1): read CSV/XLSX, map columns, validate, find duplicates, write in batches.

`readers` turns a file into rows of text, `mapping` maps its headers to fields, each kind
(`customers`, `leads`, `plans`) validates a row and writes batches, `runner` drives a run and keeps
its `ImportRun` record and report.
"""
