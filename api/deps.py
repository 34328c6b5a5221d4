"""What handlers receive: settings, database, Temporal client (made in the lifespan), commands."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from api.auth import Actor
from api.commands import OrderCommands
from api.database import Database
from api.media import MediaStore
from core.settings import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
TemporalDep = Annotated[Client, Depends(_temporal)]


def _order_commands(
    client: TemporalDep, db: DatabaseDep, settings: SettingsDep, principal: Actor
) -> OrderCommands:
    return OrderCommands(client, db, settings, principal)


CommandsDep = Annotated[OrderCommands, Depends(_order_commands)]


def _media(request: Request) -> MediaStore:
    store: MediaStore = request.app.state.media
    return store


MediaDep = Annotated[MediaStore, Depends(_media)]
