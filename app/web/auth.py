"""Bearer-token authentication for admin and staff HTTP routes."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.services import Services, services_of

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    return services_of(request.app.state)


ServicesDep = Annotated[Services, Depends(get_services)]


def require_api_token(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected = services.settings.api_token.get_secret_value()
    if not expected:
        # No token configured means no admin API at all, never an open one.
        raise HTTPException(503, "WARDBOT_API_TOKEN is not configured")
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), expected.encode()
    ):
        raise HTTPException(
            401, "invalid or missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )


Authenticated = Depends(require_api_token)
