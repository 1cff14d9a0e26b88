"""Roles are Django groups, ranked: each role may do what the roles below it may do."""

from typing import Any

VIEWER = "viewer"
FRONTLINE = "frontline"
ANALYST = "analyst"
ADMIN = "admin"
ROLES = (VIEWER, FRONTLINE, ANALYST, ADMIN)
_RANK = {name: rank for rank, name in enumerate(ROLES)}


def user_role(user: Any) -> str | None:
    """The highest role a user holds; superusers are admins; None for anonymous or role-less users."""
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "is_integration", False):
        return None
    if not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_driftwatch_role", "unset")
    if cached != "unset":
        return cached
    names = set(user.groups.values_list("name", flat=True))
    held = [name for name in ROLES if name in names]
    role = max(held, key=_RANK.__getitem__) if held else None
    user._driftwatch_role = role
    return role


def role_at_least(role: str | None, needed: str) -> bool:
    return role is not None and _RANK[role] >= _RANK[needed]
