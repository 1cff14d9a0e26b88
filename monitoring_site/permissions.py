"""Who may do what: one rule for every API view, configured by two class attributes.

- ``required_roles``: role needed per HTTP method (default: reads for viewers, writes for analysts).
- ``integration_methods``: methods an integration key may call; the view then checks the key's model.
"""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from drift.roles import ANALYST, VIEWER, role_at_least, user_role
from monitoring_site.auth import is_integration


def required_role(view: Any, method: str) -> str:
    roles: dict[str, str] = getattr(view, "required_roles", {})
    if method in roles:
        return roles[method]
    return VIEWER if method in SAFE_METHODS else ANALYST


class ReadOnlyForViewers(BasePermission):
    message = "Your role does not allow this action."

    def has_permission(self, request: Any, view: Any) -> bool:
        principal = request.user
        if is_integration(principal):
            allowed = getattr(view, "integration_methods", set())
            if request.method in allowed or (request.method == "OPTIONS" and allowed):
                return True
            self.message = "Integration keys may not call this endpoint."
            return False
        role = user_role(principal)
        if role is None:
            self.message = "Your account has no Driftwatch role; ask an admin to add you to a group."
            return False
        needed = required_role(view, request.method)
        if role_at_least(role, needed):
            return True
        self.message = f"This action needs the {needed} role; you have {role}."
        return False
