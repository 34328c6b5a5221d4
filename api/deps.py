"""What handlers receive: settings, database, Temporal client (made in the lifespan), commands.

Dependencies that neither block nor wait are ``async def``: FastAPI runs a plain ``def`` one
in its thread pool, and that hand-off, for reading an attribute, cost more than a tenth of the
API's CPU in the lifecycle benchmark (issue 15).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from api.auth import Actor, client_ip
from api.commands import OrderCommands
from api.database import Database
from api.gateway import OrderGateway
from api.media import Decoding, MediaStore
from core.settings import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
TemporalDep = Annotated[Client, Depends(_temporal)]


async def _order_commands(
    client: TemporalDep, db: DatabaseDep, settings: SettingsDep, principal: Actor, request: Request
) -> OrderCommands:
    return OrderCommands(OrderGateway(client), db, settings, principal, ip=client_ip(request))


CommandsDep = Annotated[OrderCommands, Depends(_order_commands)]


async def _media(request: Request) -> MediaStore:
    store: MediaStore = request.app.state.media
    return store


MediaDep = Annotated[MediaStore, Depends(_media)]


async def _decoding(request: Request) -> Decoding:
    decoding: Decoding = request.app.state.decoding
    return decoding


DecodingDep = Annotated[Decoding, Depends(_decoding)]
