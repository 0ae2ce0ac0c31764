"""Views and APIs of the campaigns (issue 5.6) area, registered with FAB."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.campaigns import CampaignApi, CampaignView

    # Under Care (关怀), which create_app registers before the areas.
    ab.add_view(CampaignView, "Campaigns", label=_l("Campaigns"), icon="fa-bullhorn", category="Care")
    ab.add_api(CampaignApi)
