"""The recognition benchmark's own parts: a deterministic, valid noisy portfolio whose queries
know who is right, and the figures computed from the answers."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from bench.noisy import (
    DELIVERY_NOISE,
    PARTNERS,
    generate_portfolio,
    generate_queries,
    partner_rows,
    policy_number,
)
from bench.recognition import Linkage, judge, sample_queries
from chalicelib.rules.rows import map_header, validate_row
from scripts.demo_data import COLUMNS

pytestmark = pytest.mark.unit


def test_the_same_seed_and_size_give_the_same_portfolio_and_queries() -> None:
    # given two generations with the same seed and size
    first, second = generate_portfolio(120), generate_portfolio(120)
    # then the deliveries and the queries are the same, and another seed differs
    assert list(partner_rows(first, PARTNERS[0])) == list(partner_rows(second, PARTNERS[0]))
    assert generate_queries(first) == generate_queries(second)
    assert generate_queries(generate_portfolio(120, seed=7)) != generate_queries(first)


def test_every_generated_row_passes_the_delivery_contract() -> None:
    # given the partners' files of a small portfolio
    portfolio = generate_portfolio(200)
    header = map_header(list(COLUMNS), "full")
    for partner_id in PARTNERS:
        for line, row in enumerate(partner_rows(portfolio, partner_id), start=2):
            # when each row is validated as the ingest validates it
            outcome = validate_row(
                [row[c] for c in COLUMNS], header, kind="full", line=line, today=date(2025, 6, 1)
            )
            # then it is valid: the benchmark measures recognition, not rejection
            assert outcome.row is not None, (partner_id, line, outcome)


def test_the_portfolio_has_every_kind_of_delivery_noise_and_every_look_alike() -> None:
    # given a portfolio of a thousand persons
    portfolio = generate_portfolio(1000)
    noise = Counter(party.noise for policy in portfolio.policies for party in policy.parties)
    confusers = Counter(person.confuser for person in portfolio.persons.values())
    # then partners deliver persons with each kind of noise, and look-alikes are there
    for kind in DELIVERY_NOISE:
        assert noise[kind] > 0, kind
    for kind in ("twin", "parent_child", "namesake", "namesake_same_day"):
        assert confusers[kind] > 0, kind
    assert len({p.partner_id for p in portfolio.policies}) == 3


def test_a_query_by_address_alone_accepts_everyone_living_there() -> None:
    # given the queries of a portfolio
    queries = generate_queries(generate_portfolio(300))
    by_address = [q for q in queries if q.form == "postcode+house_number"]
    by_name = [q for q in queries if q.form == "name+birth_date"]
    # then an address alone accepts the household, a name and birth date only the person
    assert any(len(q.accept) > 1 for q in by_address)
    assert all(q.accept == frozenset({q.person_id}) for q in by_name)


def test_the_partners_write_policy_numbers_in_the_notations_callers_garble() -> None:
    assert [policy_number(p, 73) for p in PARTNERS] == [
        "VM-2021-000073",
        "0005000073",
        "INT/2021/0073",
    ]


def test_sampling_keeps_at_most_so_many_queries_of_each_form_and_noise() -> None:
    queries = generate_queries(generate_portfolio(300))
    sampled = sample_queries(queries, per_cell=3)
    cells = Counter((q.form, q.noise) for q in sampled)
    assert max(cells.values()) == 3
    assert set(cells) == {(q.form, q.noise) for q in queries}


def _linkage(records: dict[tuple[str, str, str], str]) -> Linkage:
    linkage = Linkage()
    for record, client_id in records.items():
        linkage.client_of_record[record] = client_id
        linkage.persons_of_client[client_id].add(record[2])
    return linkage


def test_linkage_recall_counts_a_person_split_over_two_client_ids() -> None:
    # given person a delivered three times, once under another client id; b once
    linkage = _linkage(
        {("x", "1", "a"): "c1", ("y", "2", "a"): "c1", ("z", "3", "a"): "c2", ("x", "4", "b"): "c3"}
    )
    # then one of a's three pairs is found, and nothing was merged
    figures = linkage.pairwise()
    assert figures["recall"] == pytest.approx(1 / 3)
    assert figures["precision"] == 1.0
    assert figures["persons_split"] == 1


def test_namesakes_born_the_same_day_share_surname_initials_and_birth_date_not_the_town() -> None:
    # given a portfolio with namesakes born the same day
    persons = generate_portfolio(1000).persons.values()
    namesakes = [p for p in persons if p.confuser == "namesake_same_day"]
    for namesake in namesakes:
        # then each has a look-alike: same surname, initials and birth date, another first
        # name with the same letter, another address
        alike = [
            p
            for p in persons
            if p is not namesake
            and (p.surname, p.initials, p.birth_date)
            == (namesake.surname, namesake.initials, namesake.birth_date)
        ]
        assert alike, namesake
        assert all(p.first_name != namesake.first_name for p in alike)
        assert all(p.first_name[0] == namesake.first_name[0] for p in alike)
        assert all(p.address != namesake.address for p in alike)


def test_linkage_per_kind_of_noise_counts_the_split_pairs_and_the_merged_persons() -> None:
    # given person a delivered clean once and with a typo twice (one typo under another
    # client id), and person b merged into a's client id
    linkage = _linkage(
        {("x", "1", "a"): "c1", ("y", "2", "a"): "c1", ("z", "3", "a"): "c2", ("w", "4", "b"): "c1"}
    )
    linkage.noise_of_record.update({("y", "2", "a"): "typo", ("z", "3", "a"): "typo"})
    linkage.confuser_of.update({"a": "", "b": "namesake_same_day"})
    # when the pairs are broken down by the noise of their two records
    kinds = linkage.pairwise()["by_kind"]
    # then clean+typo has one of two pairs split, typo+typo its one pair split, and the merge
    # of a and b is named by b's confuser
    assert kinds["clean+typo"] == {"pairs": 2, "missed": 1, "recall": 0.5}
    assert kinds["typo"] == {"pairs": 1, "missed": 1, "recall": 0.0}
    assert kinds["different persons: namesake_same_day+none"]["pairs"] == 1


def test_linkage_precision_counts_two_persons_under_one_client_id() -> None:
    linkage = _linkage({("x", "1", "a"): "c1", ("y", "2", "a"): "c1", ("x", "3", "b"): "c1"})
    figures = linkage.pairwise()
    assert figures["precision"] == pytest.approx(1 / 3)
    assert figures["recall"] == 1.0
    assert figures["clients_with_two_persons"] == 1


def test_a_wrong_person_first_at_score_one_is_told_apart_from_a_near_miss() -> None:
    # given a query about person a, and answers that put b first
    query = generate_queries(generate_portfolio(50))[0]
    persons = {"c_right": {query.person_id}, "c_wrong": {"someone-else"}}
    right = {"client_id": "c_right", "score": 0.9}
    wrong_exact = {"client_id": "c_wrong", "score": 1.0}
    # when judged
    outcome = judge(query, 200, [wrong_exact, right], persons, 1.0, Counter())
    # then the right person is in the top 5 but not first, and the wrong first was at 1.0
    assert (outcome.first_right, outcome.in_top5) == (False, True)
    assert outcome.wrong_first
    assert outcome.wrong_first_exact
    assert judge(query, 200, [], persons, 1.0, Counter()).empty


def test_someone_else_with_exactly_the_name_and_birth_date_said_makes_the_query_ambiguous() -> None:
    # given "Janssen, born 29-07-1953" asked about a Maria Schafer-Janssen (her birth name)
    query = next(
        q
        for q in generate_queries(generate_portfolio(600))
        if q.noise == "birth_name_only" and not q.said_name[1] and q.form == "name+birth_date"
    )
    persons = {"c_stranger": {"someone-else"}}
    namesake = {
        "client_id": "c_stranger",
        "score": 1.0,
        "birth_date": query.said_birth_date,
        "name": {"surname": query.said_name[0].upper(), "first_name": "Maria"},
    }
    other = {**namesake, "birth_date": "1900-01-01"}
    # when another person who has exactly that name and birth date comes first
    outcome = judge(query, 200, [namesake], persons, 1.0, Counter())
    # then the query was ambiguous, not answered wrongly; with another birth date it was wrong
    assert outcome.ambiguous
    assert not outcome.wrong_first_exact
    assert judge(query, 200, [other], persons, 1.0, Counter()).wrong_first_exact


def test_a_second_policy_of_one_partner_delivers_the_holder_otherwise() -> None:
    # given a portfolio's second policies (a partner's own second policy of a holder)
    portfolio = generate_portfolio(1000)
    seconds = {
        policy.policy_number: (policy.partner_id, policy.parties[0])
        for policy in portfolio.policies
        if policy.parties[0].noise == "second_policy"
    }
    rows = [
        row
        for partner_id in PARTNERS
        for row in partner_rows(portfolio, partner_id)
        if row["PP_NUMMER"] in seconds
    ]
    # then the partner delivers that holder with initials only and a landline, no mobile
    assert rows
    assert len(rows) == len(seconds)
    assert all(r["RNAAM"] == "" and r["TELNUM"] and not r["MOBIEL"] for r in rows)
    # and the same partner delivers the holder on another policy too
    for number, (partner_id, party) in seconds.items():
        elsewhere = {
            policy.partner_id
            for policy, _ in portfolio.deliveries_of(party.person.person_id)
            if policy.policy_number != number
        }
        assert partner_id in elsewhere, number
