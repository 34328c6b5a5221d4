"""What every body shares: the error shape, strict request bodies and changes, pages."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema

from api.typeable import UNTYPEABLE, UNTYPEABLE_MESSAGE, document_typeable

# A number as ``core.phones`` reads it: 6 to 15 digits, ``+`` first. Only documented (the
# routes also take the spaces and dashes people type, and refuse other text in their words).
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=24),
    WithJsonSchema({"type": "string", "maxLength": 24, "pattern": r"^\+?[0-9]{6,15}$"}),
]


class ErrorOut(BaseModel):
    """Every business error: a reason for people and a stable code for programs."""

    detail: str
    code: str


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown order, volunteer or follow-up"},
    409: {"model": ErrorOut, "description": "The command does not fit the order's state"},
    504: {"model": ErrorOut, "description": "The order did not answer in time"},
}


# Ids are PostgreSQL integers: anything larger names nothing (and must not overflow a query).
MAX_ID = 2**31 - 1


def typeable_fields(schema: dict[str, Any], _model: type) -> None:
    # The document says what ``Strict._typeable`` refuses.
    for field in schema.get("properties", {}).values():
        document_typeable(field)


class Strict(BaseModel):
    """A request body: no unknown fields, and no text a person could not have typed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=typeable_fields)

    @field_validator("*", mode="after")
    @classmethod
    def _typeable(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and UNTYPEABLE.search(t) for t in texts):
            raise ValueError(UNTYPEABLE_MESSAGE)
        return value


def _changes_something(schema: dict[str, Any], model: type) -> None:
    typeable_fields(schema, model)
    schema["minProperties"] = 1


class Patch(Strict):
    """A change: the fields it leaves out stay, and one with none is refused."""

    model_config = ConfigDict(json_schema_extra=_changes_something)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        return self


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Health(BaseModel):
    status: str
    database: str
    temporal: str
