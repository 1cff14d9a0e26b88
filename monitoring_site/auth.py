"""`Authorization: Token <key>` for both personal tokens (DRF authtoken) and model-scoped integration keys."""

from dataclasses import dataclass
from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from drift.models import IntegrationKey
from drift.services.keys import INTEGRATION_KEY_PREFIX, integration_key_authenticate


@dataclass(frozen=True)
class IntegrationPrincipal:
    """Stands in for `request.user` when a machine calls with an integration key."""

    key: IntegrationKey
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    is_integration: bool = True
    pk: None = None
    id: None = None

    @property
    def username(self) -> str:
        return f"integration:{self.key.name}"

    @property
    def model_id(self) -> int:
        return self.key.model_id

    def __str__(self) -> str:
        return self.username


class TokenOrIntegrationKeyAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if "\x00" in key:
            # PostgreSQL cannot compare text holding NUL; no real key contains one.
            raise AuthenticationFailed("Invalid token.")
        if key.startswith(INTEGRATION_KEY_PREFIX):
            integration_key = integration_key_authenticate(key=key)
            if integration_key is None:
                raise AuthenticationFailed("Invalid or revoked integration key.")
            return IntegrationPrincipal(integration_key), integration_key
        return super().authenticate_credentials(key)


def is_integration(principal: Any) -> bool:
    return bool(getattr(principal, "is_integration", False))
