import pytest

from tracker.domain.units import UnitError, conversion_factor, label, normalize


def test_counted_things_do_not_convert_into_each_other():
    with pytest.raises(UnitError, match="cannot be converted"):
        conversion_factor("bed", "person")
    with pytest.raises(UnitError):
        conversion_factor("place / kiloperson", "bed / kiloperson")


def test_per_thousand_and_percent_conversions():
    assert conversion_factor("bed / person", "bed / kiloperson") == pytest.approx(1000)
    assert conversion_factor("permille", "percent") == pytest.approx(0.1)
    assert conversion_factor("dimensionless", "percent") == pytest.approx(100)


def test_chinese_unit_names():
    assert normalize("张") == "bed"
    assert normalize("人次") == "person_time"
    assert normalize("张/千人") == "bed / kiloperson"
    assert label("bed / kiloperson") == "张/千人"


def test_unknown_unit_lists_known_ones():
    with pytest.raises(UnitError, match="known units: person"):
        normalize("furlong")


def test_canonical_spellings_are_what_pint_makes_of_them():
    """normalize() returns a LABELS key without asking pint (record and history then never
    import it); that holds only while pint spells each key exactly so."""
    from tracker.domain.units import LABELS, registry

    for key in LABELS:
        assert str(registry().parse_units(key)) == key
