"""Dependencies injected into routes."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from backend.core.config import Settings, get_settings
from backend.db.session import get_session
from backend.services.runner import TaskRunner


def get_runner(request: Request) -> TaskRunner:
    return request.app.state.runner


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RunnerDep = Annotated[TaskRunner, Depends(get_runner)]
