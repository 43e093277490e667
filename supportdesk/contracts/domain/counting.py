"""Per-user counting from a phone-system inventory (SPEC E-9, seed 002).

What counts as a user:
- a desk phone, cordless phone or conference speakerphone;
- an extension of kind ``user`` that can make or receive calls or intercoms;
- a person using the softphone app (``Person.uses_app``, or a ``softphone`` device
  registration).

What does not: voicemail boxes and greeting menus / phone trees (``ivr_menu``); group numbers
(``ring_group``, ``paging``) that only ring or page member extensions, which are counted
themselves; fax adapters / ATAs and paging speakers (their extension counts if it can call);
a ``user`` extension that can neither call, receive nor intercom.

How items relate, and how duplicates collapse:
- Each counting item is billed under one *billing unit*. An item attributed to a person (its
  own ``person``; for a device, otherwise the person of its extension; for an extension,
  otherwise the person of a counted phone on it) is billed under that person, so one person
  with a desk phone, an extension and the app counts once.
- An unattributed extension that is the line of a counted, unattributed phone is billed with
  that phone (the phone and its number are one seat).
- Any other unattributed counting item is its own billing unit: two shared phones count twice.

``total`` is the number of distinct billing units. Every item gets a human reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import EntitlementInputError
from .vocabulary import coerce_enum


class DeviceKind(StrEnum):
    DESK_PHONE = "desk_phone"
    CORDLESS = "cordless"
    CONFERENCE = "conference"
    SOFTPHONE = "softphone"
    FAX_ATA = "fax_ata"
    PAGING_SPEAKER = "paging_speaker"
    OTHER = "other"


class ExtensionKind(StrEnum):
    USER = "user"
    VOICEMAIL = "voicemail"
    IVR_MENU = "ivr_menu"
    RING_GROUP = "ring_group"
    PAGING = "paging"


class ItemType(StrEnum):
    DEVICE = "device"
    EXTENSION = "extension"
    PERSON = "person"


_DEVICE_ALIASES = {
    "desk": DeviceKind.DESK_PHONE,
    "conference_phone": DeviceKind.CONFERENCE,
    "speakerphone": DeviceKind.CONFERENCE,
    "app": DeviceKind.SOFTPHONE,
    "fax": DeviceKind.FAX_ATA,
    "ata": DeviceKind.FAX_ATA,
}
_EXTENSION_ALIASES = {
    "voicemail_box": ExtensionKind.VOICEMAIL,
    "ivr": ExtensionKind.IVR_MENU,
    "greeting_menu": ExtensionKind.IVR_MENU,
    "phone_tree": ExtensionKind.IVR_MENU,
}

_PHONE_DEVICES = {
    DeviceKind.DESK_PHONE: "desk phone",
    DeviceKind.CORDLESS: "cordless phone",
    DeviceKind.CONFERENCE: "conference speakerphone",
}
_NOT_A_PHONE = {
    DeviceKind.FAX_ATA: "a fax adapter / ATA is not a phone (its extension counts if it can call)",
    DeviceKind.PAGING_SPEAKER: "a paging speaker is not a phone",
    DeviceKind.OTHER: "not a desk, cordless or conference phone",
}
_NON_USER_EXTENSIONS = {
    ExtensionKind.VOICEMAIL: "a voicemail box does not count as a user",
    ExtensionKind.IVR_MENU: "a greeting menu / phone tree does not count as a user",
    ExtensionKind.RING_GROUP: (
        "a ring group only rings member extensions, which are counted themselves"
    ),
    ExtensionKind.PAGING: (
        "a paging group only pages member extensions, which are counted themselves"
    ),
}


def _check_id(value: str, *, what: str) -> None:
    if not value.strip():
        raise EntitlementInputError(f"{what} id must not be empty")


@dataclass(frozen=True)
class Device:
    item_id: str
    kind: DeviceKind
    person: str | None = None
    extension: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.item_id, what="device")
        object.__setattr__(self, "kind", coerce_enum(DeviceKind, self.kind, field="device kind"))


@dataclass(frozen=True)
class Extension:
    item_id: str
    kind: ExtensionKind = ExtensionKind.USER
    can_call: bool = False
    can_receive: bool = False
    can_intercom: bool = False
    person: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.item_id, what="extension")
        kind = coerce_enum(ExtensionKind, self.kind, field="extension kind")
        object.__setattr__(self, "kind", kind)

    @property
    def reachable(self) -> bool:
        return self.can_call or self.can_receive or self.can_intercom


@dataclass(frozen=True)
class Person:
    item_id: str
    name: str
    uses_app: bool = False

    def __post_init__(self) -> None:
        _check_id(self.item_id, what="person")
        if not self.name.strip():
            raise EntitlementInputError(f"person {self.item_id!r}: name must not be empty")


@dataclass(frozen=True)
class Inventory:
    devices: tuple[Device, ...] = ()
    extensions: tuple[Extension, ...] = ()
    people: tuple[Person, ...] = ()

    def __post_init__(self) -> None:
        for name in ("devices", "extensions", "people"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for what, items in (
            ("device", self.devices),
            ("extension", self.extensions),
            ("person", self.people),
        ):
            seen: set[str] = set()
            for item in items:
                if item.item_id in seen:
                    raise EntitlementInputError(f"{what} {item.item_id!r} is listed twice")
                seen.add(item.item_id)
        people = {p.item_id for p in self.people}
        extensions = {e.item_id for e in self.extensions}
        for device in self.devices:
            if device.extension is not None and device.extension not in extensions:
                raise EntitlementInputError(
                    f"device {device.item_id!r}: extension {device.extension!r} is not in the "
                    "inventory"
                )
        for what, owned in (("device", self.devices), ("extension", self.extensions)):
            for thing in owned:
                if thing.person is not None and thing.person not in people:
                    raise EntitlementInputError(
                        f"{what} {thing.item_id!r}: person {thing.person!r} is not in the inventory"
                    )


@dataclass(frozen=True)
class CountedItem:
    """One inventory item: whether it qualifies as a user, why, and the billing unit
    (``billed_as``, e.g. ``person:alice`` or ``device:D7``) it is counted under."""

    item_type: ItemType
    item_id: str
    counts: bool
    reason: str
    person: str | None
    billed_as: str | None


@dataclass(frozen=True)
class UserCount:
    total: int
    items: tuple[CountedItem, ...]


def _device_rule(device: Device) -> tuple[bool, str]:
    if device.kind in _PHONE_DEVICES:
        return True, f"a {_PHONE_DEVICES[device.kind]} counts as a user"
    if device.kind is DeviceKind.SOFTPHONE:
        return True, "a softphone app registration is a person using the app, which counts"
    return False, _NOT_A_PHONE[device.kind]


def _extension_rule(extension: Extension) -> tuple[bool, str]:
    if extension.kind in _NON_USER_EXTENSIONS:
        return False, _NON_USER_EXTENSIONS[extension.kind]
    if extension.reachable:
        abilities = [
            word
            for flag, word in (
                (extension.can_call, "make calls"),
                (extension.can_receive, "receive calls"),
                (extension.can_intercom, "intercom"),
            )
            if flag
        ]
        return True, f"an extension that can {' and '.join(abilities)} counts as a user"
    return False, "an extension that can neither make nor receive calls nor intercom does not count"


def count_users(inventory: Inventory) -> UserCount:
    """Count users per E-9; see the module docstring for how duplicates collapse."""
    names = {p.item_id: p.name for p in inventory.people}
    extensions = {e.item_id: e for e in inventory.extensions}

    def device_person(device: Device) -> str | None:
        if device.person is not None:
            return device.person
        if device.extension is not None:
            return extensions[device.extension].person
        return None

    counted_devices = [d for d in inventory.devices if _device_rule(d)[0]]
    items: list[CountedItem] = []
    units: dict[str, str] = {}  # billing unit -> description of the item that opened it

    def add(
        item_type: ItemType,
        item_id: str,
        rule: tuple[bool, str],
        person: str | None,
        unit: str,
        label: str,
    ) -> None:
        counts, why = rule
        if not counts:
            items.append(CountedItem(item_type, item_id, False, why, person, None))
            return
        if unit in units and person:
            reason = f"{why}, but {names[person]} is already counted (one user per person)"
        elif unit in units:
            reason = (
                f"{why}; counted together with {units[unit]} (a phone and its line are one user)"
            )
        else:
            units[unit] = label
            reason = f"{why}; counted for {names[person]}" if person else why
        items.append(CountedItem(item_type, item_id, True, reason, person, unit))

    for device in inventory.devices:
        person = device_person(device)
        unit = f"person:{person}" if person else f"device:{device.item_id}"
        kind_name = _PHONE_DEVICES.get(device.kind, device.kind.value.replace("_", " "))
        label = f"{kind_name} {device.item_id}"
        add(ItemType.DEVICE, device.item_id, _device_rule(device), person, unit, label)

    for extension in inventory.extensions:
        linked = [d for d in counted_devices if d.extension == extension.item_id]
        person = extension.person
        if person is None:
            person = next((p for d in linked if (p := device_person(d)) is not None), None)
        if person is not None:
            unit = f"person:{person}"
        elif linked:
            unit = f"device:{linked[0].item_id}"
        else:
            unit = f"extension:{extension.item_id}"
        label = f"extension {extension.item_id}"
        add(ItemType.EXTENSION, extension.item_id, _extension_rule(extension), person, unit, label)

    for entry in inventory.people:
        unit = f"person:{entry.item_id}"
        if entry.uses_app:
            rule = (True, f"{entry.name} uses the softphone app, which counts as a user")
        elif unit in units:
            rule = (False, f"{entry.name} is counted through their phone or extension")
        else:
            rule = (False, f"{entry.name} has no counted phone, extension or app")
        add(ItemType.PERSON, entry.item_id, rule, entry.item_id, unit, entry.name)

    return UserCount(total=len(units), items=tuple(items))


# --- parsing -------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


def _text_id(value: object, *, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EntitlementInputError(f"{where}: expected a text id, got {value!r}")
    text = str(value).strip()
    if not text:
        raise EntitlementInputError(f"{where}: must not be empty")
    return text


def _optional_id(value: object, *, where: str) -> str | None:
    if value is None or value == "":
        return None
    return _text_id(value, where=where)


def _kind(enum: type[Any], aliases: Mapping[str, Any], value: object, *, where: str) -> Any:
    if isinstance(value, str) and value.strip().lower() in aliases:
        return aliases[value.strip().lower()]
    if isinstance(value, str):
        value = value.strip().lower()
    try:
        return coerce_enum(enum, value, field=where)
    except EntitlementInputError:
        allowed = ", ".join([m.value for m in enum] + sorted(aliases))
        raise EntitlementInputError(
            f"{where}: unknown kind {value!r} (expected one of: {allowed})"
        ) from None


def _json_bool(value: object, *, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise EntitlementInputError(f"{where}: expected true or false, got {value!r}")
    return value


def _csv_bool(value: str, *, where: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise EntitlementInputError(f"{where}: expected true/false, yes/no or 1/0, got {value!r}")


def _only_keys(entry: Mapping[str, object], allowed: Iterable[str], *, where: str) -> None:
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise EntitlementInputError(
            f"{where}: unknown field(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def _json_list(obj: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise EntitlementInputError(f"{key}: expected a list, got {type(value).__name__}")
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise EntitlementInputError(
                f"{key}[{index}]: expected an object, got {type(entry).__name__}"
            )
    return value


def parse_inventory_json(obj: object) -> Inventory:
    """Build an ``Inventory`` from decoded JSON.

    ``{"devices": [{"id", "kind", "person"?, "extension"?}],
    "extensions": [{"id", "kind"?, "can_call"?, "can_receive"?, "can_intercom"?, "person"?}],
    "people": [{"id", "name", "uses_app"?}]}``.
    """
    if not isinstance(obj, dict):
        raise EntitlementInputError(
            f"inventory: expected an object with devices, extensions and people, got "
            f"{type(obj).__name__}"
        )
    _only_keys(obj, ("devices", "extensions", "people"), where="inventory")
    devices = []
    for i, entry in enumerate(_json_list(obj, "devices")):
        where = f"devices[{i}]"
        _only_keys(entry, ("id", "kind", "person", "extension"), where=where)
        devices.append(
            Device(
                item_id=_text_id(entry.get("id"), where=f"{where}.id"),
                kind=_kind(DeviceKind, _DEVICE_ALIASES, entry.get("kind"), where=f"{where}.kind"),
                person=_optional_id(entry.get("person"), where=f"{where}.person"),
                extension=_optional_id(entry.get("extension"), where=f"{where}.extension"),
            )
        )
    extensions = []
    flags = ("can_call", "can_receive", "can_intercom")
    for i, entry in enumerate(_json_list(obj, "extensions")):
        where = f"extensions[{i}]"
        _only_keys(entry, ("id", "kind", "person", *flags), where=where)
        extensions.append(
            Extension(
                item_id=_text_id(entry.get("id"), where=f"{where}.id"),
                kind=_kind(
                    ExtensionKind,
                    _EXTENSION_ALIASES,
                    entry.get("kind", "user"),
                    where=f"{where}.kind",
                ),
                can_call=_json_bool(entry.get("can_call"), where=f"{where}.can_call"),
                can_receive=_json_bool(entry.get("can_receive"), where=f"{where}.can_receive"),
                can_intercom=_json_bool(entry.get("can_intercom"), where=f"{where}.can_intercom"),
                person=_optional_id(entry.get("person"), where=f"{where}.person"),
            )
        )
    people = []
    for i, entry in enumerate(_json_list(obj, "people")):
        where = f"people[{i}]"
        _only_keys(entry, ("id", "name", "uses_app"), where=where)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise EntitlementInputError(f"{where}.name: expected a non-empty name, got {name!r}")
        people.append(
            Person(
                item_id=_text_id(entry.get("id"), where=f"{where}.id"),
                name=name.strip(),
                uses_app=_json_bool(entry.get("uses_app"), where=f"{where}.uses_app"),
            )
        )
    return Inventory(devices=tuple(devices), extensions=tuple(extensions), people=tuple(people))


CSV_COLUMNS = (
    "type",
    "id",
    "kind",
    "person",
    "extension",
    "can_call",
    "can_receive",
    "can_intercom",
    "name",
    "uses_app",
)
_CSV_USES = {
    "device": {"type", "id", "kind", "person", "extension"},
    "extension": {"type", "id", "kind", "person", "can_call", "can_receive", "can_intercom"},
    "person": {"type", "id", "name", "uses_app"},
}


def parse_inventory_csv(text: str) -> Inventory:
    """Build an ``Inventory`` from CSV with a header row.

    Columns (any order, ``type`` and ``id`` required, others as needed): ``type`` (device,
    extension, person), ``id``, ``kind``, ``person``, ``extension``, ``can_call``,
    ``can_receive``, ``can_intercom``, ``name``, ``uses_app``. Booleans: true/false, yes/no,
    1/0; blank is false. Errors name the line.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise EntitlementInputError("line 1: the CSV is empty; expected a header row") from None
    except csv.Error as exc:
        raise EntitlementInputError(f"line 1: {exc}") from None
    columns = [c.strip().lower() for c in header]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise EntitlementInputError(
            f"line 1: unknown column(s) {', '.join(unknown)} (allowed: {', '.join(CSV_COLUMNS)})"
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise EntitlementInputError(f"line 1: column(s) listed twice: {', '.join(duplicated)}")
    for required in ("type", "id"):
        if required not in columns:
            raise EntitlementInputError(f"line 1: the header needs a {required!r} column")

    devices: list[Device] = []
    extensions: list[Extension] = []
    people: list[Person] = []
    first_line: dict[tuple[str, str], int] = {}
    references: list[tuple[int, str, str, str]] = []  # line, row type, column, referenced id
    line = 1
    try:
        for raw in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) > len(columns):
                raise EntitlementInputError(
                    f"line {line}: {len(raw)} values but the header has {len(columns)} columns"
                )
            row = {c: v.strip() for c, v in zip(columns, raw, strict=False)}
            row_type = row.get("type", "").lower()
            if row_type not in _CSV_USES:
                raise EntitlementInputError(
                    f"line {line}: unknown type {row.get('type', '')!r} "
                    "(expected device, extension or person)"
                )
            stray = sorted(c for c, v in row.items() if v and c not in _CSV_USES[row_type])
            if stray:
                raise EntitlementInputError(
                    f"line {line}: {row_type} rows do not use {', '.join(stray)}"
                )
            where = f"line {line}"
            item_id = _text_id(row.get("id", ""), where=f"{where}: id")
            if (row_type, item_id) in first_line:
                raise EntitlementInputError(
                    f"{where}: {row_type} {item_id!r} was already listed on line "
                    f"{first_line[row_type, item_id]}"
                )
            first_line[row_type, item_id] = line
            person = row.get("person") or None
            if person:
                references.append((line, row_type, "person", person))
            if row_type == "device" and row.get("extension"):
                references.append((line, row_type, "extension", row["extension"]))
            if row_type == "device":
                if not row.get("kind"):
                    raise EntitlementInputError(f"{where}: a device row needs a kind")
                kind = _kind(DeviceKind, _DEVICE_ALIASES, row["kind"], where=f"{where}: kind")
                devices.append(Device(item_id, kind, person, row.get("extension") or None))
            elif row_type == "extension":
                ext_kind = _kind(
                    ExtensionKind,
                    _EXTENSION_ALIASES,
                    row.get("kind") or "user",
                    where=f"{where}: kind",
                )
                extensions.append(
                    Extension(
                        item_id,
                        ext_kind,
                        can_call=_csv_bool(row.get("can_call", ""), where=f"{where}: can_call"),
                        can_receive=_csv_bool(
                            row.get("can_receive", ""), where=f"{where}: can_receive"
                        ),
                        can_intercom=_csv_bool(
                            row.get("can_intercom", ""), where=f"{where}: can_intercom"
                        ),
                        person=person,
                    )
                )
            else:
                if not row.get("name"):
                    raise EntitlementInputError(f"{where}: a person row needs a name")
                people.append(
                    Person(
                        item_id,
                        row["name"],
                        uses_app=_csv_bool(row.get("uses_app", ""), where=f"{where}: uses_app"),
                    )
                )
    except csv.Error as exc:
        raise EntitlementInputError(f"line {reader.line_num}: {exc}") from None
    for ref_line, row_type, column, ref in references:
        if (column, ref) not in first_line:
            raise EntitlementInputError(
                f"line {ref_line}: the {row_type} refers to {column} {ref!r}, "
                f"which has no {column} row"
            )
    return Inventory(devices=tuple(devices), extensions=tuple(extensions), people=tuple(people))
