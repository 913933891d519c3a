"""Base models for events and commands, and the registry that maps a type name to its model.

There is no global registry: each service builds its own at start from the catalog
(shared.contract.catalog), so what it can read is explicit and checked before it consumes anything.

Events are facts (past tense) and commands are requests (imperative). Both are frozen and carry a
type name and a version; a published version never changes, a breaking change is a new version with
an upcaster from the old payload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from shared.contract.topology import Stream


class Message(BaseModel):
    """A versioned, immutable payload. Unknown fields are ignored so that additions stay compatible."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type_name: ClassVar[str]
    version: ClassVar[int] = 1
    stream: ClassVar[Stream]
    subject_field: ClassVar[str] = "deployment_id"

    @property
    def subject(self) -> str:
        """The entity the message is about: the Kafka key and the CloudEvents subject."""
        return str(getattr(self, self.subject_field))

    @classmethod
    def schema_id(cls) -> str:
        return f"urn:lifecycle:schema:{cls.type_name}:v{cls.version}"


class Event(Message):
    """A fact that happened to one deployment (or, for registry events, one model package)."""

    deployment_id: str


class Actor(BaseModel):
    """Who issued a command, as the edge that authenticated them saw it (their token's user)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    user: str
    groups: tuple[str, ...] = ()
    admin: bool = False


class Command(Message):
    """A request to the one service that owns it; it ends in events or a CommandRejected."""

    command_id: str
    deployment_id: str
    actor: Actor


M = TypeVar("M", bound=type[Message])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownMessageType(LookupError):
    """Raised for a type name (or version) that no model is registered for."""


class MissingMessageTypes(LookupError):
    """Raised at start when a service consumes message types its registry cannot parse."""


class MessageRegistry:
    """Type name and version to model, plus the upcasters that lift old payloads to the newest version."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[Message]] = {}
        self._latest: dict[str, int] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, model: M) -> M:
        key = (model.type_name, model.version)
        if key in self._models:
            raise ValueError(f"{model.type_name} v{model.version} is registered twice")
        self._models[key] = model
        self._latest[model.type_name] = max(self._latest.get(model.type_name, 0), model.version)
        return model

    def register_upcaster(self, type_name: str, from_version: int, upcaster: Upcaster) -> None:
        self._upcasters[(type_name, from_version)] = upcaster

    def latest(self, type_name: str) -> type[Message]:
        if type_name not in self._latest:
            raise UnknownMessageType(f"unknown message type {type_name!r}")
        return self._models[(type_name, self._latest[type_name])]

    def parse(self, type_name: str, version: int | None, data: dict[str, Any]) -> Message:
        """Validate `data` as `type_name`, upcasting an old version step by step to the newest one."""
        newest = self.latest(type_name).version
        current = newest if version is None else version
        if current > newest:
            raise UnknownMessageType(f"{type_name} v{current} is newer than this service knows (v{newest})")
        while current < newest:
            step = self._upcasters.get((type_name, current))
            if step is None:
                raise UnknownMessageType(f"no upcaster for {type_name} from v{current}")
            data = step(data)
            current += 1
        return self._models[(type_name, newest)].model_validate(data)

    def __iter__(self) -> Iterator[type[Message]]:
        return iter(self._models.values())

    def require(self, models: Iterable[type[Message]], *, consumer: str) -> None:
        """Fail now, naming them, if any of `models` is not what this registry parses its type into.

        A consumer dispatches on model classes; a type missing here would otherwise be dead-lettered
        record by record as unknown, and a type whose newest version is another class would be
        silently ignored."""
        problems = []
        for model in models:
            if model.type_name not in self._latest:
                problems.append(f"{model.type_name} v{model.version} is not registered")
            elif (newest := self.latest(model.type_name)) is not model:
                problems.append(f"{model.type_name} parses as v{newest.version}, not the v{model.version} it handles")
        if problems:
            raise MissingMessageTypes(f"{consumer} cannot start: {'; '.join(problems)}")
