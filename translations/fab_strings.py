"""Flask-AppBuilder strings shown on our pages that we translate ourselves.

Never imported. `make extract` reads the N_() marks (see babel.cfg) so these ids land in our
catalogues; Flask-Babel loads FAB's catalogue first and ours over it, so ours win. Listed here:
strings FAB's own zh catalogue lacks or marks fuzzy, and a few whose FAB wording reads badly.
Strings FAB hard-codes in its templates (the modal "OK" / "Cancel") cannot be reached this way.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


FAB_STRINGS = (
    # List and show widgets (appbuilder/general/lib.html)
    N_("Add"),
    N_("Edit"),
    N_("Show"),
    N_("Delete"),
    N_("Add a new record"),
    N_("Show record"),
    N_("Edit record"),
    N_("Delete record"),
    N_("Are you sure you want to delete this item?"),
    N_("Page size"),
    N_("Detail"),
    N_("Back"),
    # Search filters (flask_appbuilder/models/sqla/filters.py)
    N_("Starts with"),
    N_("Start with"),
    N_("Not Starts with"),
    N_("Ends with"),
    N_("Not Ends with"),
    N_("Contains (insensitive)"),
    N_("In"),
    N_("Not In"),
    # Forms and messages
    N_("Not a valid choice"),
    N_("Database Error"),
    N_("Integrity error, probably unique constraint"),
    # Navbar and the user's own information page
    N_("Profile"),
    N_("Logout"),
    N_("Edit User Information"),
    N_("User information changed"),
)
