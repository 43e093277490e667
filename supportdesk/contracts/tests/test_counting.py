"""Per-user counting from a phone-system inventory (E-9, seed 002)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.contracts.domain.counting import (
    CSV_COLUMNS,
    Device,
    DeviceKind,
    Extension,
    ExtensionKind,
    Inventory,
    ItemType,
    Person,
    UserCount,
    count_users,
    parse_inventory_csv,
    parse_inventory_json,
)
from supportdesk.contracts.domain.errors import EntitlementInputError

D, X = DeviceKind, ExtensionKind


def by_id(result: UserCount, item_type: ItemType, item_id: str):
    return next(i for i in result.items if i.item_type is item_type and i.item_id == item_id)


def test_desk_phone_and_app_for_one_person_count_once_E9() -> None:
    inventory = Inventory(
        devices=(Device("D1", D.DESK_PHONE, person="alice"),),
        people=(Person("alice", "Alice Smith", uses_app=True),),
    )
    result = count_users(inventory)
    assert result.total == 1
    app = by_id(result, ItemType.PERSON, "alice")
    assert app.counts is True
    assert app.billed_as == "person:alice"
    assert app.reason == (
        "Alice Smith uses the softphone app, which counts as a user, but Alice Smith is already "
        "counted (one user per person)"
    )


@pytest.mark.parametrize("kind", [D.DESK_PHONE, D.CORDLESS, D.CONFERENCE])
def test_each_phone_kind_counts_E9(kind: DeviceKind) -> None:
    assert count_users(Inventory(devices=(Device("D1", kind),))).total == 1


def test_voicemail_box_does_not_count_E9() -> None:
    result = count_users(Inventory(extensions=(Extension("500", X.VOICEMAIL, can_receive=True),)))
    assert result.total == 0
    assert result.items[0].counts is False
    assert result.items[0].reason == "a voicemail box does not count as a user"


def test_greeting_menu_does_not_count_E9() -> None:
    result = count_users(Inventory(extensions=(Extension("600", X.IVR_MENU, can_receive=True),)))
    assert result.total == 0
    assert result.items[0].reason == "a greeting menu / phone tree does not count as a user"


def test_extension_that_can_only_intercom_counts_E9() -> None:
    result = count_users(Inventory(extensions=(Extension("900", can_intercom=True),)))
    assert result.total == 1
    assert result.items[0].reason == "an extension that can intercom counts as a user"


def test_extension_that_cannot_call_does_not_count_E9() -> None:
    result = count_users(Inventory(extensions=(Extension("800"),)))
    assert result.total == 0


def test_extension_and_its_desk_phone_for_the_same_person_count_once_E9() -> None:
    inventory = Inventory(
        devices=(Device("D1", D.DESK_PHONE, extension="201"),),
        extensions=(Extension("201", can_call=True, can_receive=True, person="bob"),),
        people=(Person("bob", "Bob Jones"),),
    )
    result = count_users(inventory)
    assert result.total == 1
    phone = by_id(result, ItemType.DEVICE, "D1")
    assert phone.person == "bob"  # attributed through its extension
    assert phone.reason == "a desk phone counts as a user; counted for Bob Jones"


def test_two_unassigned_phones_count_individually_E9() -> None:
    inventory = Inventory(devices=(Device("lobby", D.DESK_PHONE), Device("kitchen", D.CORDLESS)))
    assert count_users(inventory).total == 2


WORKED = Inventory(
    devices=(
        Device("D1", D.DESK_PHONE, person="alice", extension="201"),
        Device("D2", D.CORDLESS, extension="202"),
        Device("D3", D.CONFERENCE, extension="300"),
        Device("D4", D.FAX_ATA, extension="400"),
        Device("D5", D.SOFTPHONE, person="carol"),
        Device("D6", D.DESK_PHONE),
    ),
    extensions=(
        Extension("201", can_call=True, can_receive=True, person="alice"),
        Extension("202", can_call=True, can_receive=True, person="bob"),
        Extension("300", can_call=True, can_receive=True),
        Extension("400", can_receive=True),
        Extension("500", X.VOICEMAIL),
        Extension("600", X.IVR_MENU, can_receive=True),
        Extension("700", X.RING_GROUP, can_receive=True),
        Extension("800"),
        Extension("900", can_intercom=True),
    ),
    people=(
        Person("alice", "Alice Smith", uses_app=True),
        Person("bob", "Bob Jones"),
        Person("carol", "Carol White", uses_app=True),
        Person("dave", "Dave Brown"),
    ),
)


def test_worked_inventory_E9() -> None:
    # Billing units, by hand: Alice (D1, 201, app), Bob (D2 via extension 202, 202),
    # Carol (softphone D5, app), conference phone D3 (with its line 300), unassigned desk
    # phone D6, fax line 400 (the ATA itself does not count), intercom-only 900.
    result = count_users(WORKED)
    assert result.total == 7
    expected = {
        ("device", "D1"): (True, "person:alice"),
        ("device", "D2"): (True, "person:bob"),
        ("device", "D3"): (True, "device:D3"),
        ("device", "D4"): (False, None),
        ("device", "D5"): (True, "person:carol"),
        ("device", "D6"): (True, "device:D6"),
        ("extension", "201"): (True, "person:alice"),
        ("extension", "202"): (True, "person:bob"),
        ("extension", "300"): (True, "device:D3"),
        ("extension", "400"): (True, "extension:400"),
        ("extension", "500"): (False, None),
        ("extension", "600"): (False, None),
        ("extension", "700"): (False, None),
        ("extension", "800"): (False, None),
        ("extension", "900"): (True, "extension:900"),
        ("person", "alice"): (True, "person:alice"),
        ("person", "bob"): (False, None),
        ("person", "carol"): (True, "person:carol"),
        ("person", "dave"): (False, None),
    }
    actual = {(i.item_type.value, i.item_id): (i.counts, i.billed_as) for i in result.items}
    assert actual == expected
    reasons = {(i.item_type.value, i.item_id): i.reason for i in result.items}
    assert reasons["extension", "300"] == (
        "an extension that can make calls and receive calls counts as a user; counted together "
        "with conference speakerphone D3 (a phone and its line are one user)"
    )
    assert reasons["device", "D4"] == (
        "a fax adapter / ATA is not a phone (its extension counts if it can call)"
    )
    assert reasons["person", "bob"] == "Bob Jones is counted through their phone or extension"
    assert reasons["person", "dave"] == "Dave Brown has no counted phone, extension or app"
    assert reasons["extension", "700"] == (
        "a ring group only rings member extensions, which are counted themselves"
    )
    assert all(i.reason for i in result.items)


# --- parsing ------------------------------------------------------------------------------

WORKED_CSV = """type,id,kind,person,extension,can_call,can_receive,can_intercom,name,uses_app
person,alice,,,,,,,Alice Smith,yes
person,bob,,,,,,,Bob Jones,
device,D1,desk,alice,201,,,,,
device,D2,cordless,,202,,,,,
extension,201,user,alice,,true,true,false,,
extension,202,,bob,,1,1,0,,
extension,500,voicemail,,,,,,,
"""


def test_parse_inventory_csv_worked_example_E9() -> None:
    inventory = parse_inventory_csv(WORKED_CSV)
    assert inventory.devices == (
        Device("D1", D.DESK_PHONE, "alice", "201"),
        Device("D2", D.CORDLESS, None, "202"),
    )
    assert inventory.extensions[1] == Extension("202", X.USER, True, True, False, "bob")
    assert inventory.people[0] == Person("alice", "Alice Smith", True)
    assert count_users(inventory).total == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the CSV is empty"),
        ("type,id,colour\n", "line 1: unknown column(s) colour"),
        ("id,kind\n", "line 1: the header needs a 'type' column"),
        ("type,id,id\n", "line 1: column(s) listed twice: id"),
        ("type,id,kind\ndevice,D1,desk\nphone,D2,desk\n", "line 3: unknown type 'phone'"),
        ("type,id,kind\ndevice,D1,\n", "line 2: a device row needs a kind"),
        ("type,id,kind\ndevice,D1,rotary\n", "line 2: kind: unknown kind 'rotary'"),
        (
            "type,id,can_call\nextension,201,maybe\n",
            "line 2: can_call: expected true/false, yes/no or 1/0, got 'maybe'",
        ),
        ("type,id,name\nperson,alice,\n", "line 2: a person row needs a name"),
        ("type,id,kind\ndevice,D1,desk,extra\n", "line 2: 4 values but the header has 3"),
        (
            "type,id,kind\ndevice,D1,desk\n\ndevice,D1,cordless\n",
            "line 4: device 'D1' was already listed on line 2",
        ),
        (
            "type,id,kind,extension\ndevice,D1,desk,299\n",
            "line 2: the device refers to extension '299', which has no extension row",
        ),
        (
            "type,id,person\nextension,201,zoe\n",
            "line 2: the extension refers to person 'zoe', which has no person row",
        ),
        ("type,id,uses_app\nextension,201,yes\n", "line 2: extension rows do not use uses_app"),
        ('type,id,name\nperson,p1,"unterminated\n', "line 2: unexpected end of data"),
    ],
)
def test_malformed_csv_gives_line_numbered_errors_E9(text: str, message: str) -> None:
    with pytest.raises(EntitlementInputError) as caught:
        parse_inventory_csv(text)
    assert str(caught.value).startswith(message)


def test_parse_inventory_json_E9() -> None:
    inventory = parse_inventory_json(
        {
            "devices": [{"id": "D1", "kind": "desk_phone", "person": "alice", "extension": 201}],
            "extensions": [{"id": 201, "can_call": True, "can_receive": True}],
            "people": [{"id": "alice", "name": "Alice Smith", "uses_app": True}],
        }
    )
    assert inventory.devices == (Device("D1", D.DESK_PHONE, "alice", "201"),)
    assert inventory.extensions == (Extension("201", X.USER, True, True, False),)
    assert count_users(inventory).total == 1


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "inventory: expected an object with devices, extensions and people, got list"),
        ({"phones": []}, "inventory: unknown field(s) phones"),
        ({"devices": {}}, "devices: expected a list, got dict"),
        ({"devices": ["D1"]}, "devices[0]: expected an object, got str"),
        ({"devices": [{"id": "D1", "kind": "rotary"}]}, "devices[0].kind: unknown kind 'rotary'"),
        ({"devices": [{"kind": "desk"}]}, "devices[0].id: expected a text id, got None"),
        (
            {"extensions": [{"id": "201", "can_call": "yes"}]},
            "extensions[0].can_call: expected true or false, got 'yes'",
        ),
        ({"people": [{"id": "p1", "name": ""}]}, "people[0].name: expected a non-empty name"),
        ({"people": [{"id": "p1", "name": "P", "age": 3}]}, "people[0]: unknown field(s) age"),
        (
            {"devices": [{"id": "D1", "kind": "desk", "person": "zoe"}]},
            "device 'D1': person 'zoe' is not in the inventory",
        ),
        (
            {"extensions": [{"id": "201"}, {"id": "201"}]},
            "extension '201' is listed twice",
        ),
    ],
)
def test_malformed_json_gives_clear_errors_E9(obj: object, message: str) -> None:
    with pytest.raises(EntitlementInputError) as caught:
        parse_inventory_json(obj)
    assert str(caught.value).startswith(message)


# --- properties ---------------------------------------------------------------------------


@st.composite
def inventories(draw: st.DrawFn) -> Inventory:
    people_ids = [f"p{i}" for i in range(draw(st.integers(0, 4)))]
    people = tuple(Person(pid, f"Person {pid}", draw(st.booleans())) for pid in people_ids)
    maybe_person = st.one_of(st.none(), st.sampled_from(people_ids)) if people_ids else st.none()
    extensions = tuple(
        Extension(
            f"{200 + i}",
            draw(st.sampled_from(list(ExtensionKind))),
            draw(st.booleans()),
            draw(st.booleans()),
            draw(st.booleans()),
            draw(maybe_person),
        )
        for i in range(draw(st.integers(0, 6)))
    )
    ext_ids = [e.item_id for e in extensions]
    maybe_ext = st.one_of(st.none(), st.sampled_from(ext_ids)) if ext_ids else st.none()
    devices = tuple(
        Device(
            f"D{i}", draw(st.sampled_from(list(DeviceKind))), draw(maybe_person), draw(maybe_ext)
        )
        for i in range(draw(st.integers(0, 6)))
    )
    return Inventory(devices=devices, extensions=extensions, people=people)


@given(inventories())
def test_total_is_distinct_persons_plus_unattributed_units_E9(inventory: Inventory) -> None:
    result = count_users(inventory)
    counted = [i for i in result.items if i.counts]
    persons = {i.person for i in counted if i.person}
    unattributed = {i.billed_as for i in counted if not i.person}
    assert result.total == len(persons) + len(unattributed)
    assert result.total <= len(counted)
    assert len(result.items) == (
        len(inventory.devices) + len(inventory.extensions) + len(inventory.people)
    )
    assert all(i.reason for i in result.items)
    assert all((i.billed_as is not None) == i.counts for i in result.items)


@given(inventories(), st.booleans())
def test_adding_a_voicemail_box_never_changes_the_count_E9(inventory: Inventory, owned) -> None:
    owner = inventory.people[0].item_id if owned and inventory.people else None
    box = Extension("vm-new", ExtensionKind.VOICEMAIL, True, True, True, owner)
    bigger = replace(inventory, extensions=(*inventory.extensions, box))
    assert count_users(bigger).total == count_users(inventory).total


@given(inventories())
def test_app_for_someone_already_counted_never_adds_a_user_E9(inventory: Inventory) -> None:
    result = count_users(inventory)
    units = {i.billed_as for i in result.items if i.counts}
    for person in inventory.people:
        if f"person:{person.item_id}" in units:
            people = tuple(
                replace(p, uses_app=True) if p == person else p for p in inventory.people
            )
            assert count_users(replace(inventory, people=people)).total == result.total


def to_json(inventory: Inventory) -> dict:
    return {
        "devices": [
            {"id": d.item_id, "kind": d.kind.value, "person": d.person, "extension": d.extension}
            for d in inventory.devices
        ],
        "extensions": [
            {
                "id": e.item_id,
                "kind": e.kind.value,
                "can_call": e.can_call,
                "can_receive": e.can_receive,
                "can_intercom": e.can_intercom,
                "person": e.person,
            }
            for e in inventory.extensions
        ],
        "people": [
            {"id": p.item_id, "name": p.name, "uses_app": p.uses_app} for p in inventory.people
        ],
    }


def to_csv(inventory: Inventory) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for p in inventory.people:
        writer.writerow({"type": "person", "id": p.item_id, "name": p.name, "uses_app": p.uses_app})
    for e in inventory.extensions:
        writer.writerow(
            {
                "type": "extension",
                "id": e.item_id,
                "kind": e.kind.value,
                "person": e.person or "",
                "can_call": e.can_call,
                "can_receive": e.can_receive,
                "can_intercom": e.can_intercom,
            }
        )
    for d in inventory.devices:
        writer.writerow(
            {
                "type": "device",
                "id": d.item_id,
                "kind": d.kind.value,
                "person": d.person or "",
                "extension": d.extension or "",
            }
        )
    return out.getvalue()


@given(inventories())
def test_json_and_csv_round_trip_E9(inventory: Inventory) -> None:
    assert parse_inventory_json(to_json(inventory)) == inventory
    assert parse_inventory_csv(to_csv(inventory)) == inventory
