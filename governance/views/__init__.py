"""Governance pages: events, incidents, postmortems, runbooks, drills and the annotation triage queue.

Each page module is thin: it reads through `governance.selectors*`, writes through `governance.services`
and renders a template under `templates/governance/`. Access uses `drift.views.access.role_required`.
"""
