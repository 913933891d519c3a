"""Query parameters become a safe filter and sort, or a 400 with the reason."""

from __future__ import annotations

import pytest

from services.inventory.adapters.query import BadQuery, Caller, parse_list_query

ALICE = Caller(user="alice", groups=("ml",))


def clauses(**params: str) -> list[dict[str, object]]:
    query = parse_list_query({k: [v] for k, v in params.items()}, ALICE)
    return query.filter["$and"][1:]  # type: ignore[no-any-return]


def test_comma_lists_are_or_and_filters_are_and() -> None:
    assert clauses(status="active,inactive", importance="high") == [
        {"status": {"$in": ["active", "inactive"]}},
        {"importance": {"$in": ["HIGH"]}},
    ]


def test_callers_see_only_what_they_own_or_use_and_never_deleted() -> None:
    visibility = parse_list_query({}, ALICE).filter["$and"][0]
    assert visibility["$and"][1] == {"$or": [{"owners": {"$in": ["alice", "ml"]}}, {"users": {"$in": ["alice", "ml"]}}]}
    assert "deleted" not in visibility["$and"][0]["status"]["$in"]
    admin = parse_list_query({}, Caller(user="root", admin=True)).filter["$and"][0]
    assert "$or" not in str(admin)


def test_search_is_escaped_and_case_insensitive() -> None:
    (search,) = clauses(search="a.b*")
    pattern = {"$regex": r"a\.b\*", "$options": "i"}
    assert search == {"$or": [{"label": pattern}, {"description": pattern}]}


def test_sort_keys_and_direction() -> None:
    assert parse_list_query({"sort": ["-service_health"]}, ALICE).sort == [("health.service.rank", -1), ("_id", 1)]
    assert parse_list_query({}, ALICE).sort[0] == ("label_sort", 1)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"status": ["exploded"]}, "status: 'exploded' is not one of"),
        ({"status": ["deleted"]}, "status: 'deleted' is not one of"),
        ({"drift_health": ["unavailable"]}, "drift_health"),
        ({"owner": ["alice,,bob"]}, "owner: empty value"),
        ({"search": [" , "]}, "search: empty value"),
        ({"limit": ["1_000"]}, "limit: '1_000' is not an integer"),
        ({"offset": ["\u0663"]}, "is not an integer"),
        ({"last_prediction_after": ["yesterday"]}, "not an ISO-8601"),
        ({"sort": ["colour"]}, "sort: 'colour'"),
        ({"limit": ["0"]}, "limit: must be between 1 and 1000"),
        ({"offset": ["x"]}, "offset: 'x' is not an integer"),
        ({"role": ["CONSUMER"]}, "role"),
        ({"statsu": ["active"]}, "unknown query parameter(s): statsu"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(params: dict[str, list[str]], reason: str) -> None:
    with pytest.raises(BadQuery) as caught:
        parse_list_query(params, ALICE)
    assert reason in str(caught.value)


def test_accuracy_accepts_unavailable() -> None:
    assert clauses(accuracy_health="unavailable") == [{"health.accuracy.status": {"$in": ["unavailable"]}}]


def test_the_openapi_description_covers_every_parameter() -> None:
    from services.inventory.adapters.query import _ALLOWED, PARAMETER_HELP

    assert list(PARAMETER_HELP) == _ALLOWED
