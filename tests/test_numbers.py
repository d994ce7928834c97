import pytest

from tracker.domain.numbers import NumberError, chinese_to_int, parse_number


@pytest.mark.parametrize("text, value, unit", [
    ("32", 32, None), ("1.5万", 15000, None), ("15,000", 15000, None), ("３２", 32, None),
    ("１．５万", 15000, None), ("三十二", 32, None), ("百分之三十", 30, "percent"), ("30%", 30, "percent"),
    ("３０％", 30, "percent"), ("5‰", 5, "permille"), ("千分之五", 5, "permille"), ("两", 2, None),
    ("一万五千", 15000, None), ("十", 10, None), ("2.5亿", 250_000_000, None), ("-3", -3, None),
    ("1,234,567.5", 1234567.5, None), ("三点五", 3.5, None),
])
def test_number_forms(text, value, unit):
    assert parse_number(text) == (pytest.approx(value), unit)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "三十二张", "12,34"])
def test_not_numbers_are_refused_with_the_accepted_forms(text):
    with pytest.raises(NumberError, match="accepted forms|empty value"):
        parse_number(text)


def test_year_written_digit_by_digit():
    assert chinese_to_int("二〇二五") == 2025
