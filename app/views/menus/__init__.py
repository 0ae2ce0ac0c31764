"""Menu and view registration, one module per capability, so each area wires itself in one place.

`app/__init__.py` calls `register(appbuilder)` of each module below after the foundation's views.
"""
