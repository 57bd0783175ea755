"""Identity resolution through the real ingest service on in-memory stores: one person delivered
by several partners with their noise, and over time, keeps one client id; two people never share
one; ids that turn out to be one person are joined."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.config import get_settings
from chalicelib.models.portfolio import PartyFields
from chalicelib.rules.identity import client_id_for
from chalicelib.services.identity import IdentityResolver, PolicyParties
from chalicelib.store import keys
from chalicelib.store.register_items import POLICY_TRACES
from tests.support.identity import RacingStore
from tests.support.ingest import csv_bytes, person
from tests.support.memory import MemoryIdentities, MemoryPortfolio, MemoryRegister
from tests.unit.test_identity import kees as kees_party

pytestmark = pytest.mark.unit

VOLMACHT, VERZEKERAAR, INTERMEDIAIR = "demo-volmacht", "demo-verzekeraar", "demo-intermediair"
KVK_HEADER = [
    "PP_NUMMER", "PP_BRANCHE", "PP_INGDAT", "PP_DEKKING", "ENTITEIT", "GESLACH", "ANAAM",
    "VOORV", "VOORL", "RNAAM", "GEBDAT", "STRAAT", "HUISNR", "TOEVOEG", "PCODE", "PLAATS",
    "TELNUM", "EMAIL", "KVKNR",
]  # fmt: skip


@pytest.fixture
def register() -> MemoryRegister:
    return MemoryRegister()


def kees(number: str, **overrides: str) -> dict[str, str]:
    row = {"ANAAM": "Jansen", "VOORV": "", "VOORL": "K.", "RNAAM": "Kees", "GEBDAT": "19800312"}
    return person(number, **(row | overrides))


def deliver(register: MemoryRegister, partner: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    register.upload(
        f"incoming/{partner}/full/{len(register.blobs.objects)}.csv",
        csv_bytes(rows, header=KVK_HEADER),
    )
    register.drain()
    return register.report(partner)


def client_of(register: MemoryRegister, partner: str, number: str, **match: str) -> str:
    """The client id of the current party of one policy (the one whose fields match)."""
    policy = register.policy(number, partner)
    assert policy is not None
    ids = {
        p["client_id"]
        for p in register.items("party")
        if (p["partner_id"], p["policy_number"]) == (partner, number)
        and p["data_seq"] == policy["data_seq"]
        and all(p.get(k) == v for k, v in match.items())
    }
    assert len(ids) == 1, ids
    return ids.pop()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param({}, {"ANAAM": "Janssen"}, id="a spelling variant at one partner"),
        pytest.param({"ANAAM": "Aydin"}, {"ANAAM": "Ayydin"}, id="a typo at one partner"),
        pytest.param({}, {"HUISNR": "7", "PCODE": "3511AB"}, id="an old address at one partner"),
        pytest.param(
            {"ANAAM": "Schafer"},
            {"ANAAM": "Schafer-van der Meer"},
            id="the birth name at one partner, the double name at another",
        ),
        pytest.param({"RNAAM": ""}, {"VOORL": "K.J."}, id="initials only at one partner"),
    ],
)
def test_one_person_delivered_by_two_partners_with_noise_is_one_client(register, first, second):
    deliver(register, VOLMACHT, [kees("V1", **first)])
    deliver(register, VERZEKERAAR, [kees("Z1", **second)])
    assert client_of(register, VOLMACHT, "V1") == client_of(register, VERZEKERAAR, "Z1")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param({}, {"GEBDAT": "19810312"}, id="Jansen 1980 and Jansen 1981"),
        pytest.param({"RNAAM": "Piet", "VOORL": "P."}, {"RNAAM": "Jan", "VOORL": "J."}, id="twins"),
        pytest.param(
            {"GEBDAT": "19550101"}, {"GEBDAT": "19850601"}, id="a parent and a child of one name"
        ),
        pytest.param(
            {"ANAAM": "Vries", "VOORV": "de"},
            {"ANAAM": "Vos", "VOORV": "de"},
            id="de Vries, de Vos",
        ),
    ],
)
def test_two_people_delivered_by_two_partners_are_never_one_client(register, first, second):
    deliver(register, VOLMACHT, [kees("V1", **first)])
    deliver(register, VERZEKERAAR, [kees("Z1", **second)])
    assert client_of(register, VOLMACHT, "V1") != client_of(register, VERZEKERAAR, "Z1")


def test_a_person_who_moves_keeps_their_client_id(register):
    deliver(register, VOLMACHT, [kees("V1")])
    before = client_of(register, VOLMACHT, "V1")
    deliver(register, VOLMACHT, [kees("V1", HUISNR="7", PCODE="3511AB", PLAATS="Utrecht")])
    assert client_of(register, VOLMACHT, "V1") == before


def test_a_corrected_typo_and_a_corrected_birth_date_keep_the_client_id(register):
    deliver(register, VOLMACHT, [kees("V1", ANAAM="Jnasen", GEBDAT="19800321")])
    before = client_of(register, VOLMACHT, "V1")
    deliver(register, VOLMACHT, [kees("V1")])
    assert client_of(register, VOLMACHT, "V1") == before


def test_a_son_of_the_same_name_taking_over_his_fathers_policy_is_another_client(register):
    # given the father on a policy
    deliver(register, VOLMACHT, [kees("V1", GEBDAT="19500312")])
    father = client_of(register, VOLMACHT, "V1")
    # when the partner delivers the policy with the son of the same name (one digit apart)
    deliver(register, VOLMACHT, [kees("V1", GEBDAT="19800312")])
    # then the son is another client
    assert client_of(register, VOLMACHT, "V1") != father


def test_twins_on_one_household_policy_and_one_of_them_alone_elsewhere(register):
    twins = [
        kees("H1", RNAAM="Vera", VOORL="V.", GEBDAT="19700101"),
        kees("H1", ENTITEIT="KN", RNAAM="Piet", VOORL="P.", GEBDAT="20100505"),
        kees("H1", ENTITEIT="KN", RNAAM="Jan", VOORL="J.", GEBDAT="20100505"),
    ]
    report = deliver(register, VOLMACHT, twins)
    assert (report["rows_accepted"], report["policies_written"]) == (3, 1)
    piet = client_of(register, VOLMACHT, "H1", first_name="Piet")
    jan = client_of(register, VOLMACHT, "H1", first_name="Jan")
    assert piet != jan
    # when Jan is delivered alone by another partner, with initials only
    deliver(register, VERZEKERAAR, [kees("Z1", RNAAM="", VOORL="J.", GEBDAT="20100505")])
    # then he is Jan, not Piet and not a third client
    assert client_of(register, VERZEKERAAR, "Z1") == jan


def test_a_son_and_a_daughter_of_one_initial_on_one_policy_are_two_clients_in_any_order(register):
    # REVIEW 10:37 (session 20): twins Jan and Julia, `J.` both, told apart by gender only
    parent = kees("H1", RNAAM="Vera", VOORL="V.", GEBDAT="19700101")
    son = kees("H1", ENTITEIT="KN", RNAAM="", VOORL="J.", GESLACH="M", GEBDAT="20150505")
    daughter = kees("H1", ENTITEIT="KN", RNAAM="", VOORL="J.", GESLACH="V", GEBDAT="20150505")
    # when the household policy is delivered
    report = deliver(register, VOLMACHT, [parent, son, daughter])
    # then it is stored whole, the twins as two clients
    assert (report["rows_accepted"], report["policies_written"]) == (3, 1)
    boy = client_of(register, VOLMACHT, "H1", gender="M", birth_date="2015-05-05")
    girl = client_of(register, VOLMACHT, "H1", gender="V", birth_date="2015-05-05")
    assert boy != girl
    # and when the partner lists them the other way round, each keeps their own id
    register.clock.advance(days=31)
    deliver(register, VOLMACHT, [parent, {**daughter, "TELNUM": "0201234567"}, son])
    assert client_of(register, VOLMACHT, "H1", gender="M", birth_date="2015-05-05") == boy
    assert client_of(register, VOLMACHT, "H1", gender="V", birth_date="2015-05-05") == girl


def test_a_repeated_row_of_one_initial_without_a_gender_on_one_side_still_refuses_the_policy(
    register,
):
    son = kees("H1", ENTITEIT="KN", RNAAM="", VOORL="J.", GESLACH="M", GEBDAT="20150505")
    report = deliver(register, VOLMACHT, [kees("H1"), son, {**son, "GESLACH": ""}])
    assert "duplicate_party" in report["error_counts"]


def test_a_company_without_kvk_at_one_partner_is_the_company_with_it(register):
    company = {
        "GESLACH": "R",
        "ANAAM": "Bakkerij Jansen B.V.",
        "VOORL": "",
        "RNAAM": "",
        "GEBDAT": "",
    }
    deliver(register, VOLMACHT, [kees("V1", **company, KVKNR="12345678")])
    deliver(register, VERZEKERAAR, [kees("Z1", **company | {"ANAAM": "Bakkerij Jansen"})])
    deliver(register, INTERMEDIAIR, [kees("I1", **company, KVKNR="87654321")])
    with_kvk = client_of(register, VOLMACHT, "V1")
    assert client_of(register, VERZEKERAAR, "Z1") == with_kvk
    assert client_of(register, INTERMEDIAIR, "I1") != with_kvk, "another KvK number"


def test_two_ids_of_one_person_are_joined_into_the_first_and_the_old_one_is_recorded(register):
    # given a person split by the previous version: an old address at one partner
    deliver(register, VOLMACHT, [kees("V1")])
    deliver(register, VERZEKERAAR, [kees("Z1", ANAAM="Jnasen", HUISNR="7", PCODE="3511AB")])
    first, second = client_of(register, VOLMACHT, "V1"), client_of(register, VERZEKERAAR, "Z1")
    assert first != second, "two noises at once are not enough evidence"
    # when that partner corrects the name
    deliver(register, VERZEKERAAR, [kees("Z1", HUISNR="7", PCODE="3511AB")])
    # then the second id is joined into the first, the one given out first
    assert client_of(register, VERZEKERAAR, "Z1") == first
    assert register.identities is not None
    joins = register.identities.client_index(first).aliases
    assert joins == [second]
    assert register.identities.client_index(second).joined_into == first


def test_a_join_lives_as_long_as_the_client_it_was_joined_into_is_delivered(register):
    # given a second id joined into the first (as above), recorded with that delivery's expiry
    deliver(register, VOLMACHT, [kees("V1")])
    deliver(register, VERZEKERAAR, [kees("Z1", ANAAM="Jnasen", HUISNR="7", PCODE="3511AB")])
    second = client_of(register, VERZEKERAAR, "Z1")
    deliver(register, VERZEKERAAR, [kees("Z1", HUISNR="7", PCODE="3511AB")])
    assert register.identities is not None
    join_keys = [
        (keys.alias_pk(second), keys.ALIAS_SK),
        (keys.alias_pk(second), keys.ALIAS_SURVIVOR_SK),
    ]
    joined_until = {register.identities.items[k]["expires_at"] for k in join_keys}
    # when the client is delivered again more than RETENTION_REFRESH_MONTHS later
    register.clock.advance(days=_beyond_the_refresh_window())
    deliver(register, VOLMACHT, [kees("V1")])
    # then both join items live as long as that delivery's retention
    refreshed = {register.identities.items[k]["expires_at"] for k in join_keys}
    latest = max(register.deliveries.records.values(), key=lambda r: r.received_at)
    assert refreshed == {latest.expires_at}
    assert min(refreshed) > max(joined_until)
    assert register.identities.client_index(second).joined_into == client_of(
        register, VOLMACHT, "V1"
    )


def test_a_policy_stored_by_the_previous_version_keeps_its_client_ids(register):
    # given a policy stored without identity traces, its parties with the first version's ids
    party = PartyFields(
        role="VP", is_legal_entity=False, surname="Jansen", surname_key="jansen",
        birth_date="1980-03-12", postcode="1234AB", house_number="1",
    )  # fmt: skip
    before = client_id_for(party, get_settings().client_id_key)
    deliver(register, VOLMACHT, [kees("V1")])
    for item in register.portfolio.items.values():
        item.pop(POLICY_TRACES, None)
        if item["type"] == "party":
            item.update(client_id=before, gsi1pk=f"CLIENT#{before}")
    register.identities.items.clear()  # type: ignore[union-attr]
    assert client_of(register, VOLMACHT, "V1") == before
    # when the partner delivers it again unchanged
    deliver(register, VOLMACHT, [kees("V1")])
    # then the client id stays, and the policy is written once more to keep its traces
    assert client_of(register, VOLMACHT, "V1") == before
    assert POLICY_TRACES in register.policy("V1", VOLMACHT)  # type: ignore[operator]
    # and when the person moves, the id still stays
    deliver(register, VOLMACHT, [kees("V1", HUISNR="7", PCODE="3511AB")])
    assert client_of(register, VOLMACHT, "V1") == before


def test_re_deliveries_keep_every_id_and_write_no_bucket_again(register):
    rows = [kees("V1"), kees("V2", RNAAM="Els", VOORL="E.", GEBDAT="19750505")]
    deliver(register, VOLMACHT, rows)
    ids = {n: client_of(register, VOLMACHT, n) for n in ("V1", "V2")}
    assert register.identities is not None
    buckets = {k: dict(v) for k, v in register.identities.items.items()}
    deliver(register, VOLMACHT, rows)
    assert {n: client_of(register, VOLMACHT, n) for n in ("V1", "V2")} == ids
    assert {k: dict(v) for k, v in register.identities.items.items()} == buckets


def test_two_partners_resolving_one_new_person_at_once_give_them_one_client_id():
    memory = MemoryIdentities(MemoryPortfolio())
    key = get_settings().client_id_key
    other: list[str] = []

    def other_partner_delivers() -> None:
        resolution = IdentityResolver(memory, key=key).resolve(
            VERZEKERAAR,
            [PolicyParties("Z1", [kees_party(surname="Janssen", surname_key="janssen")], None)],
            seq="2026-03-01#2",
            expires_at=2_000_000_000,
            now=1_800_000_000,
        )
        other.extend(resolution.client_ids[0])

    racing = RacingStore(memory, other_partner_delivers)
    resolution = IdentityResolver(racing, key=key).resolve(
        VOLMACHT,
        [PolicyParties("V1", [kees_party()], None)],
        seq="2026-03-01#1",
        expires_at=2_000_000_000,
        now=1_800_000_000,
    )

    # then the first save was refused (the bucket changed), and the second resolution took the
    # other partner's id
    assert racing.saves == 2
    assert resolution.client_ids == [other]


@pytest.mark.parametrize(
    "second",
    [
        pytest.param({"RNAAM": "", "HUISNR": "5", "PCODE": "9999ZZ"}, id="initials only"),
        pytest.param({"RNAAM": "Koen", "HUISNR": "5", "PCODE": "9999ZZ"}, id="another name"),
    ],
)
def test_namesakes_born_the_same_day_living_elsewhere_are_two_clients(register, second):
    # given Kees Jansen, born 12-03-1980, at one partner
    deliver(register, VOLMACHT, [kees("V1")])
    # when another partner delivers K. Jansen born that day in another town, no phone or
    # e-mail address in common
    deliver(register, VERZEKERAAR, [kees("Z1", **second)])
    # then nothing says they are one person: two clients
    assert client_of(register, VOLMACHT, "V1") != client_of(register, VERZEKERAAR, "Z1")


def test_two_partners_own_typos_of_one_surname_at_one_address_are_one_client(register):
    # given Meijer delivered as Meijerr by one partner
    deliver(register, VOLMACHT, [kees("V1", ANAAM="Meijerr")])
    # when another partner delivers Mnijer, same first name, birth date and address
    deliver(register, VERZEKERAAR, [kees("Z1", ANAAM="Mnijer")])
    # then both are the same client
    assert client_of(register, VOLMACHT, "V1") == client_of(register, VERZEKERAAR, "Z1")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            {"RNAAM": "", "VOORL": "J.H."}, {"RNAAM": "Hans", "VOORL": "J.H."}, id="a roepnaam"
        ),
        pytest.param({"RNAAM": "", "VOORL": ""}, {}, id="no given names at the first partner"),
        pytest.param({}, {"RNAAM": "", "VOORL": ""}, id="no given names at the second partner"),
    ],
)
def test_a_person_whose_partners_write_the_given_names_otherwise_is_one_client(
    register, first, second
):
    # given a person at one partner, when another delivers them at the same address
    deliver(register, VOLMACHT, [kees("V1", **first)])
    deliver(register, VERZEKERAAR, [kees("Z1", **second)])
    # then they are one client
    assert client_of(register, VOLMACHT, "V1") == client_of(register, VERZEKERAAR, "Z1")


def test_boy_and_girl_twins_with_initials_only_at_two_partners_are_two_clients(register):
    deliver(register, VOLMACHT, [kees("V1", RNAAM="", VOORL="J.", GESLACH="M")])
    deliver(register, VERZEKERAAR, [kees("Z1", RNAAM="", VOORL="J.", GESLACH="V")])
    assert client_of(register, VOLMACHT, "V1") != client_of(register, VERZEKERAAR, "Z1")


def _beyond_the_refresh_window() -> int:
    return 31 * get_settings().retention_refresh_months + 10


@pytest.mark.parametrize(("beyond", "rewritten"), [(False, False), (True, True)])
def test_an_unchanged_bucket_is_refreshed_as_seldom_as_an_unchanged_policy(
    register, beyond, rewritten
):
    # given a client's bucket, when the partner delivers the client again unchanged
    deliver(register, VOLMACHT, [kees("V1")])
    assert register.identities is not None
    before = {k: dict(v) for k, v in register.identities.items.items()}
    within = 28 * get_settings().retention_refresh_months - 10
    register.clock.advance(days=_beyond_the_refresh_window() if beyond else within)
    deliver(register, VOLMACHT, [kees("V1")])
    # then the bucket is written again only once its expiry lags by RETENTION_REFRESH_MONTHS
    after = {k: dict(v) for k, v in register.identities.items.items()}
    assert (after != before) is rewritten
