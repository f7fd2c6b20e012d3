import pytest

from cshub.core.validators import npi_is_valid, npi_with_check_digit, validate_tin


def test_npi_luhn_accepts_cms_example():
    """The CMS NPI check digit example: 123456789 + check digit 3."""
    assert npi_is_valid("1234567893")


@pytest.mark.parametrize("value", ["1234567890", "123456789", "12345678931", "abcdefghij", ""])
def test_npi_luhn_rejects_wrong_check_digit_and_shapes(value):
    assert not npi_is_valid(value)


def test_npi_with_check_digit_completes_a_stem():
    assert npi_with_check_digit("123456789") == "1234567893"


def test_tin_requires_nine_digits():
    validate_tin("12-3456789")
    with pytest.raises(Exception, match="9-digit"):
        validate_tin("12-345")
