from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zagi.core.errors import BadInput
from zagi.formats.secretsfile import parse_plaintext, render_plaintext
from zagi.secrets.recipients import parse_recipient

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)


# Every value an environment variable can hold (anything but NUL).
VALUES = st.text(st.characters(blacklist_characters="\0"), max_size=60)


@given(st.dictionaries(NAMES, VALUES))
def test_round_trip_keeps_every_value_exactly(secrets: dict[str, str]) -> None:
    assert parse_plaintext(render_plaintext(secrets).decode()) == secrets


def test_a_value_with_nul_is_refused_not_stored() -> None:
    """No process environment can carry NUL: storing one broke every `zagi run`."""
    import pytest

    with pytest.raises(BadInput, match="NUL"):
        parse_plaintext(render_plaintext({"A": "x\0y"}).decode())


@given(st.text(max_size=300))
def test_parser_only_raises_bad_input(text: str) -> None:
    try:
        parse_plaintext(text)
    except BadInput as err:
        assert "line" in str(err) or "quoted" in str(err)


def test_hand_written_dotenv_style() -> None:
    text = "# comment\n\nexport A=1\nB = two words \nC='single'\nD=\"multi\\nline\"\nE=\n"
    assert parse_plaintext(text) == {"A": "1", "B": "two words", "C": "single",
                                     "D": "multi\nline", "E": ""}


@pytest.mark.parametrize("bad", ["not a line", "1X=2", 'A="unterminated'])
def test_bad_lines_say_which_line_not_what_value(bad: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_plaintext(f"OK=1\n{bad}\n")
    assert "line 2" in str(info.value)


def test_recipients_are_checked() -> None:
    with pytest.raises(BadInput, match="not an age"):
        parse_recipient("age1notakey", ".zagi/recipients")
    with pytest.raises(BadInput, match="not an age"):
        parse_recipient("hello", ".zagi/recipients")
