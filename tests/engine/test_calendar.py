"""The working-day calendar against the real bank holidays of the `holidays` package."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.engine.calendar import REGIONS, WorkingCalendar, parse_date_like

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# Bank holidays ---------------------------------------------------------------------------------

ENG_2026 = {
    D(2026, 1, 1),  # New Year's Day
    D(2026, 4, 3),  # Good Friday
    D(2026, 4, 6),  # Easter Monday
    D(2026, 5, 4),  # early May
    D(2026, 5, 25),  # spring
    D(2026, 8, 31),  # summer
    D(2026, 12, 25),  # Christmas (Friday)
    D(2026, 12, 26),  # Boxing Day (Saturday)
    D(2026, 12, 28),  # Boxing Day substitute (Monday)
}
ENG_2027 = {
    D(2027, 1, 1),
    D(2027, 3, 26),  # Good Friday
    D(2027, 3, 29),  # Easter Monday
    D(2027, 5, 3),
    D(2027, 5, 31),
    D(2027, 8, 30),
    D(2027, 12, 25),  # Saturday
    D(2027, 12, 26),  # Sunday
    D(2027, 12, 27),  # Christmas substitute
    D(2027, 12, 28),  # Boxing Day substitute
}


def test_bank_holidays_of_england_2026_and_2027(cal: WorkingCalendar) -> None:
    assert set(cal.bank_holidays(2026)) == ENG_2026
    assert set(cal.bank_holidays(2027)) == ENG_2027
    assert "observed" in cal.bank_holidays(2026)[D(2026, 12, 28)]


def test_wales_shares_englands_bank_holidays() -> None:
    wales = WorkingCalendar("WLS")
    assert set(wales.bank_holidays(2026)) == ENG_2026
    assert set(wales.bank_holidays(2027)) == ENG_2027


def test_scotland_and_northern_ireland_differ() -> None:
    scotland, ni = WorkingCalendar("SCT"), WorkingCalendar("NIR")
    assert not scotland.is_working_day(D(2026, 1, 2))  # 2 January
    assert scotland.is_working_day(D(2026, 4, 6))  # no Easter Monday
    assert not ni.is_working_day(D(2026, 3, 17))  # St Patrick's Day
    assert WorkingCalendar().is_working_day(D(2026, 3, 17))


def test_bank_holidays_returns_a_copy(cal: WorkingCalendar) -> None:
    cal.bank_holidays(2026).clear()
    assert not cal.is_working_day(D(2026, 12, 25))


@pytest.mark.parametrize("day", sorted(d for d in ENG_2026 | ENG_2027 if d.weekday() < 5))
def test_weekday_bank_holidays_are_not_working_days(cal: WorkingCalendar, day: dt.date) -> None:
    assert not cal.is_working_day(day)


def test_weekends_and_ordinary_days(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(D(2026, 3, 7))  # Saturday
    assert not cal.is_working_day(D(2026, 3, 8))  # Sunday
    assert cal.is_working_day(D(2026, 3, 9))  # Monday
    assert cal.is_working_day(D(2026, 12, 24))  # Christmas Eve is a working day
    assert cal.is_working_day(D(2026, 12, 31))
    assert cal.is_working_day("2026-12-29T08:00:00Z")
    assert not cal.is_working_day("2026-12-28")


# add_working_days ------------------------------------------------------------------------------


def test_five_working_days_from_a_friday_is_the_next_friday(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2026, 3, 6), 5) == D(2026, 3, 13)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 12, 24), 1, D(2026, 12, 29)),  # over Christmas, weekend, Boxing Day substitute
        (D(2026, 12, 24), 3, D(2026, 12, 31)),
        (D(2026, 12, 24), 4, D(2027, 1, 4)),  # and New Year's Day (Friday)
        (D(2026, 12, 14), 15, D(2027, 1, 7)),  # rapid review: 15 working days
        (D(2026, 4, 2), 1, D(2026, 4, 7)),  # over Easter 2026
        (D(2027, 3, 25), 1, D(2027, 3, 30)),  # over Easter 2027
        (D(2027, 12, 24), 1, D(2027, 12, 29)),  # Christmas 2027 on a weekend: two substitutes
        (D(2026, 5, 22), 1, D(2026, 5, 26)),  # spring bank holiday
    ],
)
def test_add_working_days_over_holidays(
    cal: WorkingCalendar, start: dt.date, n: int, expected: dt.date
) -> None:
    assert cal.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 12, 29), -1, D(2026, 12, 24)),
        (D(2027, 1, 4), -4, D(2026, 12, 24)),
        (D(2026, 4, 7), -1, D(2026, 4, 2)),
        (D(2026, 3, 13), -5, D(2026, 3, 6)),
        (D(2026, 3, 7), -1, D(2026, 3, 6)),  # Saturday - 1 is Friday
        (D(2026, 12, 25), -1, D(2026, 12, 24)),  # Christmas Day - 1 is Christmas Eve
    ],
)
def test_negative_n_counts_backwards(
    cal: WorkingCalendar, start: dt.date, n: int, expected: dt.date
) -> None:
    assert cal.add_working_days(start, n) == expected


def test_zero_moves_a_non_working_day_to_the_next_working_day(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2026, 3, 7), 0) == D(2026, 3, 9)  # Saturday -> Monday
    assert cal.add_working_days(D(2026, 3, 8), 0) == D(2026, 3, 9)  # Sunday -> Monday
    assert cal.add_working_days(D(2026, 12, 25), 0) == D(2026, 12, 29)
    assert cal.add_working_days(D(2026, 3, 10), 0) == D(2026, 3, 10)  # working day unchanged


def test_counting_from_a_non_working_day_starts_at_the_next_working_day(
    cal: WorkingCalendar,
) -> None:
    # Received on Saturday counts as received on Monday.
    assert cal.add_working_days(D(2026, 3, 7), 1) == D(2026, 3, 10)
    assert cal.add_working_days(D(2026, 3, 7), 5) == D(2026, 3, 16)
    assert cal.add_working_days(D(2026, 12, 26), 1) == D(2026, 12, 30)


def test_datetime_keeps_time_and_offset(cal: WorkingCalendar) -> None:
    plus_one = dt.timezone(dt.timedelta(hours=1))
    start = dt.datetime(2026, 12, 24, 15, 30, tzinfo=plus_one)
    result = cal.add_working_days(start, 1)
    assert result == dt.datetime(2026, 12, 29, 15, 30, tzinfo=plus_one)
    assert isinstance(result, dt.datetime)
    naive = cal.add_working_days(dt.datetime(2026, 3, 6, 9, 0), 5)
    assert naive == dt.datetime(2026, 3, 13, 9, 0)
    assert naive.tzinfo is None


def test_a_date_stays_a_date(cal: WorkingCalendar) -> None:
    assert type(cal.add_working_days(D(2026, 3, 6), 1)) is dt.date


def test_n_must_be_whole(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2026, 3, 6), 5.0) == D(2026, 3, 13)  # from JSON
    with pytest.raises(TypeError):
        cal.add_working_days(D(2026, 3, 6), 1.5)
    with pytest.raises(TypeError):
        cal.add_working_days(D(2026, 3, 6), True)


# working_days_between --------------------------------------------------------------------------


def test_working_days_between(cal: WorkingCalendar) -> None:
    # 22, 23, 24, 29, 30, 31 December and 4 January.
    assert cal.working_days_between(D(2026, 12, 21), D(2027, 1, 4)) == 7
    assert cal.working_days_between(D(2027, 1, 4), D(2026, 12, 21)) == -7
    assert cal.working_days_between(D(2026, 3, 6), D(2026, 3, 13)) == 5
    assert cal.working_days_between(D(2026, 3, 6), D(2026, 3, 6)) == 0
    assert cal.working_days_between("2026-03-06T17:00:00Z", "2026-03-09T08:00:00Z") == 1
    assert cal.working_days_between(D(2026, 3, 6), D(2026, 3, 8)) == 0  # to Sunday


def test_working_days_between_inverts_add_working_days(cal: WorkingCalendar) -> None:
    starts = [D(2026, 12, 1) + dt.timedelta(days=i) for i in range(62)]
    starts += [D(2026, 3, 28) + dt.timedelta(days=i) for i in range(14)]
    for start in starts:
        for n in range(-12, 13):
            end = cal.add_working_days(start, n)
            assert cal.is_working_day(end)
            assert cal.working_days_between(start, end) == n, (start, n, end)


def test_working_days_between_spans_years(cal: WorkingCalendar) -> None:
    start = D(2025, 6, 2)
    end = cal.add_working_days(start, 600)
    assert cal.working_days_between(start, end) == 600
    assert cal.add_working_days(end, -600) == start


# Calendar days and months ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 8, 31), 1, D(2026, 9, 30)),
        (D(2026, 6, 15), 6, D(2026, 12, 15)),  # SCR within 6 months
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2026, 1, 15), -13, D(2024, 12, 15)),
        (D(2026, 1, 31), 0, D(2026, 1, 31)),
    ],
)
def test_add_months_clamps_to_month_end(
    cal: WorkingCalendar, start: dt.date, n: int, expected: dt.date
) -> None:
    assert cal.add_months(start, n) == expected


def test_add_months_keeps_time(cal: WorkingCalendar) -> None:
    start = dt.datetime(2026, 1, 31, 10, 15, tzinfo=dt.UTC)
    assert cal.add_months(start, 1) == dt.datetime(2026, 2, 28, 10, 15, tzinfo=dt.UTC)


def test_add_days(cal: WorkingCalendar) -> None:
    assert cal.add_days(D(2026, 12, 24), 14) == D(2027, 1, 7)
    assert cal.add_days(D(2026, 12, 24), -24) == D(2026, 11, 30)
    assert cal.add_days("2026-12-24T10:00:00Z", 1) == "2026-12-25T10:00:00Z"


# ISO strings from process data -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-12-24", "2026-12-29"),
        ("2026-12-24T10:00:00Z", "2026-12-29T10:00:00Z"),
        ("2026-12-24T10:00:00+01:00", "2026-12-29T10:00:00+01:00"),
        ("2026-12-24T10:00:00+00:00", "2026-12-29T10:00:00+00:00"),
        ("2026-12-24T10:00:00", "2026-12-29T10:00:00"),
        ("2026-12-24T10:00:00.250000Z", "2026-12-29T10:00:00.250000Z"),
        (" 2026-12-24 ", "2026-12-29"),
    ],
)
def test_iso_strings_round_trip(cal: WorkingCalendar, start: str, expected: str) -> None:
    result = cal.add_working_days(start, 1)
    assert result == expected
    assert json.loads(json.dumps({"due": result})) == {"due": expected}


def test_strings_in_strings_out_for_every_function(cal: WorkingCalendar) -> None:
    assert cal.add_months("2026-01-31", 1) == "2026-02-28"
    assert cal.add_months("2026-01-31T09:00:00Z", 1) == "2026-02-28T09:00:00Z"
    assert cal.add_days("2026-12-24", 1) == "2026-12-25"
    assert cal.add_working_days("2026-03-07", 0) == "2026-03-09"


def test_bad_dates_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        cal.add_working_days("24/12/2026", 1)
    with pytest.raises(ValueError, match="ISO 8601"):
        cal.is_working_day("")
    with pytest.raises(TypeError):
        cal.is_working_day(20261224)  # type: ignore[arg-type]


def test_parse_date_like() -> None:
    assert parse_date_like("2026-12-24") == D(2026, 12, 24)
    assert type(parse_date_like("2026-12-24")) is dt.date
    assert parse_date_like("2026-12-24T10:00:00Z") == dt.datetime(2026, 12, 24, 10, tzinfo=dt.UTC)


# Regions ---------------------------------------------------------------------------------------


def test_region_is_validated() -> None:
    with pytest.raises(ValueError, match=r"unknown region 'XYZ'.*ENG"):
        WorkingCalendar("XYZ")
    with pytest.raises(ValueError, match="unknown region"):
        WorkingCalendar("")
    with pytest.raises(ValueError, match="unknown region"):
        WorkingCalendar("GB")


def test_region_codes() -> None:
    assert WorkingCalendar().region == "ENG"
    assert WorkingCalendar(" wls ").region == "WLS"
    assert set(REGIONS) == {"ENG", "WLS", "SCT", "NIR"}
    for region in REGIONS:
        assert not WorkingCalendar(region).is_working_day(D(2026, 12, 25))
