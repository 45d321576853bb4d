"""Dependency aliases for the routers (FastAPI's `Annotated` idiom): `def f(s: SessionDep, p: StudentDep)`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from backend.core.auth import (
    Principal,
    current_principal,
    current_staff,
    current_student,
    integration_key,
    integration_or_service_key,
    optional_principal,
)
from backend.core.db import get_session

SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
StudentDep = Annotated[Principal, Depends(current_student)]  # the student comes from the token only
StaffDep = Annotated[Principal, Depends(current_staff)]  # counselors (own college) and school staff
IntegrationKey = Depends(integration_key)  # `dependencies=[IntegrationKey]` on the integration routes
IntegrationOrServiceKey = Depends(integration_or_service_key)  # the NLG endpoint: Rasa or the action server
