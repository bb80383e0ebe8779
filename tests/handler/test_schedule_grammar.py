"""EventBridge Scheduler's recurring expressions (the contract's schedule_grammar), as the
Scheduler User Guide's "Schedule types" page gives them: each rule of the grammar refused with
its words, valid expressions accepted with the intervals between their occurrences."""

from __future__ import annotations

from datetime import timedelta

import pytest

from docdb_snapshot_handler import contract

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)

# expression, words of the refusal
REFUSED = [
    # issue 23's three
    ("cron(0 5 * * *)", "six fields, not 5"),
    ("cron(0 25 * * ? *)", "hours takes 0-23, not '25'"),
    ("rate(1 days)", "singular for 1 and plural otherwise: rate(1 day)"),
    # rate()
    ("rate(5 minute)", "rate(5 minutes)"),
    ("rate(0 hours)", "positive whole number, not '0'"),
    ("rate(1.5 hours)", "positive whole number, not '1.5'"),
    ("rate(-1 day)", "positive whole number"),
    ("rate(2 weeks)", "minute(s), hour(s) or day(s), not 'weeks'"),
    ("rate(5minutes)", "a value and a unit separated by one space"),
    # at() and anything else
    ("at(2027-01-01T05:00:00)", "at() is a one-time schedule"),
    ("every day", "must be cron("),
    # cron(): the fields and their separators
    ("cron(0 5 * * ? * *)", "six fields, not 7"),
    ("cron(0  5 * * ? *)", "single spaces"),
    # each field's range
    ("cron(60 5 * * ? *)", "minutes takes 0-59, not '60'"),
    ("cron(0 5 0 * ? *)", "day-of-month takes 1-31, not '0'"),
    ("cron(0 5 32 * ? *)", "day-of-month takes 1-31, not '32'"),
    ("cron(0 5 * 13 ? *)", "month takes 1-12 or JAN-DEC, not '13'"),
    ("cron(0 5 ? * 0 *)", "day-of-week takes 1-7 or SUN-SAT, not '0'"),
    ("cron(0 5 ? * 8 *)", "day-of-week takes 1-7 or SUN-SAT, not '8'"),
    ("cron(0 5 * * ? 1969)", "year takes 1970-2199, not '1969'"),
    ("cron(0 5 * * ? 2200)", "year takes 1970-2199, not '2200'"),
    # names: months in the month field, days in the day-of-week field, upper case
    ("cron(0 5 * MON ? *)", "month takes 1-12 or JAN-DEC, not 'MON'"),
    ("cron(0 5 ? * JAN *)", "day-of-week takes 1-7 or SUN-SAT, not 'JAN'"),
    ("cron(0 5 * jan ? *)", "not 'jan'"),
    ("cron(0 JAN * * ? *)", "hours takes 0-23, not 'JAN'"),
    # , - * /
    ("cron(0 5,,6 * * ? *)", "hours takes 0-23, not ''"),
    ("cron(0 17-5 * * ? *)", "the range '17-5' ends before it starts"),
    ("cron(0 5 ? * FRI-MON *)", "the range 'FRI-MON' ends before it starts"),
    ("cron(*,5 5 * * ? *)", "* stands alone"),
    ("cron(0/0 5 * * ? *)", "the increment of '0/0' must be 1-59"),
    ("cron(0 0/24 * * ? *)", "the increment of '0/24' must be 1-23"),
    ("cron(0 5 ? * MON/2 *)", "day-of-week takes no /"),
    # ? on exactly one of day-of-month and day-of-week
    ("cron(0 5 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 5 * * MON *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(0 5 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("cron(? 5 * * ? *)", "minutes takes 0-59, not '?'"),
    # L, W, # where each is allowed
    ("cron(0 5 L,1 * ? *)", "L and nW stand alone"),
    ("cron(0 5 1-15W * ? *)", "day-of-month takes 1-31, not '1-15'"),
    ("cron(0 5 32W * ? *)", "day-of-month takes 1-31, not '32'"),
    ("cron(0 5 ? * MON,L *)", "L and nL stand alone"),
    ("cron(0 5 ? * 3#2,6#3 *)", "# takes one day"),
    ("cron(0 5 ? * 3#6 *)", "its instance 1-5"),
    ("cron(0 5 ? * 8#1 *)", "day-of-week takes 1-7 or SUN-SAT, not '8'"),
    ("cron(0 5 3#2 * ? *)", "day-of-month takes 1-31, not '3#2'"),
    ("cron(0 L * * ? *)", "hours takes 0-23, not 'L'"),
    ("cron(0 5 * * ? L)", "year takes 1970-2199, not 'L'"),
    ("cron(0 5 ? * W *)", "day-of-week takes 1-7 or SUN-SAT, not 'W'"),
    # a recurring rule repeats
    ("cron(0 5 30 FEB ? *)", "never occurs"),
    ("cron(0 5 1 JAN ? 2030)", "occurs only once"),
]


@pytest.mark.parametrize(("expression", "words"), REFUSED)
def test_each_rule_of_the_grammar_is_refused_with_its_words(expression: str, words: str):
    # WHEN a malformed expression is checked
    errors = contract.schedule_expression_errors("schedule_expression", expression)
    # THEN one error, naming the field, the expression and the rule broken
    assert len(errors) == 1
    assert errors[0].startswith(f"schedule_expression: {expression!r}: ")
    assert words in errors[0]
    # AND the intervals refuse it as well (a ValueError naming the same rule)
    with pytest.raises(ValueError) as refused:
        contract.shortest_interval(expression)
    assert words in str(refused.value)


# expression, shortest interval, longest interval
VALID = [
    ("cron(15 3 ? * MON-FRI *)", DAY, 3 * DAY),
    ("cron(0 4 1 * ? *)", 28 * DAY, 31 * DAY),
    ("rate(1 day)", DAY, DAY),
    ("rate(12 hours)", 12 * HOUR, 12 * HOUR),
    ("rate(1 minute)", MINUTE, MINUTE),
    ("rate(90 minutes)", 90 * MINUTE, 90 * MINUTE),
    # the presets' own (events.Schedule.cron as ElasticClusterBackupRule.daily() and friends write it)
    ("cron(0 5 * * ? *)", DAY, DAY),
    ("cron(0 5 ? * SAT *)", 7 * DAY, 7 * DAY),
    ("cron(0 5 1 * ? *)", 28 * DAY, 31 * DAY),
    # , - * / and names
    ("cron(0/15 * * * ? *)", 15 * MINUTE, 15 * MINUTE),
    ("cron(*/20 * * * ? *)", 20 * MINUTE, 20 * MINUTE),
    ("cron(0 */6 * * ? *)", 6 * HOUR, 6 * HOUR),
    ("cron(0 8-17/3 * * ? *)", 3 * HOUR, 15 * HOUR),  # 8, 11, 14, 17
    ("cron(0 5,17 * * ? *)", 12 * HOUR, 12 * HOUR),
    ("cron(30 2 ? * SUN,WED *)", 3 * DAY, 4 * DAY),
    ("cron(0 5 1 JAN,JUL ? *)", 181 * DAY, 184 * DAY),
    ("cron(0 5 1 1/3 ? *)", 90 * DAY, 92 * DAY),  # JAN, APR, JUL, OCT
    ("cron(0 5 * * ? 2027-2030)", DAY, DAY),
    ("cron(0 5 1 * ? 2030/10)", 28 * DAY, 3318 * DAY),  # 1 December 2030 to 1 January 2040
    # L, W, #
    ("cron(0 5 L * ? *)", 28 * DAY, 31 * DAY),
    ("cron(0 5 15W * ? *)", 28 * DAY, 32 * DAY),
    # the 1st of January 2028 is a Saturday: 1W is Monday the 3rd, not the 31st of December
    ("cron(0 5 1W * ? *)", 28 * DAY, 33 * DAY),
    ("cron(0 5 31W * ? *)", 29 * DAY, 63 * DAY),  # none in a month of 30 days
    ("cron(0 5 ? * L *)", 7 * DAY, 7 * DAY),  # the last day of the week: Saturday
    ("cron(0 5 ? * 6L *)", 28 * DAY, 35 * DAY),  # the last Friday of the month
    ("cron(0 5 ? * 3#2 *)", 28 * DAY, 35 * DAY),  # the second Tuesday
    ("cron(0 5 ? * MON#1 *)", 28 * DAY, 35 * DAY),
    # 29 February: every fourth year, and eight years across 2100 (no leap day)
    ("cron(0 5 29 FEB ? *)", 1461 * DAY, 2921 * DAY),
]


@pytest.mark.parametrize(("expression", "shortest", "longest"), VALID)
def test_valid_expressions_pass_with_the_intervals_between_their_occurrences(
    expression: str, shortest: timedelta, longest: timedelta
):
    # WHEN a valid expression is checked
    # THEN no error, and its occurrences are between `shortest` and `longest` apart
    assert contract.schedule_expression_errors("schedule_expression", expression) == []
    assert contract.shortest_interval(expression) == shortest
    assert contract.longest_interval(expression) == longest


@pytest.mark.parametrize(
    ("interval", "text"),
    [(DAY, "1 day"), (7 * DAY, "7 days"), (HOUR, "1 hour"), (36 * HOUR, "36 hours"), (90 * MINUTE, "90 minutes")],
)
def test_an_interval_is_said_in_its_largest_whole_unit(interval: timedelta, text: str):
    assert contract.interval_text(interval) == text
