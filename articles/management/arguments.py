"""Argument types shared by the management commands: argparse reports a bad
value as `--since: …` with the command's usage, before anything runs."""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import CommandParser


def iso_date(text: str) -> dt.date:
    """A YYYY-MM-DD day, for options such as --since."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def add_since_option(parser: CommandParser) -> None:
    """`--since YYYY-MM-DD`, the same in every command that selects articles by day."""
    parser.add_argument("--since", metavar="YYYY-MM-DD", type=iso_date,
                        help="only articles published on or after this day (Beijing time)")


def positive_int(text: str) -> int:
    """A whole number of at least 1, for options such as --batch-size."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of at least 0, for options where 0 means none, such as --workers."""
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from exc


_DURATION_UNITS = {"d": "days", "h": "hours", "w": "weeks"}


def duration(text: str) -> dt.timedelta:
    """A positive span such as 90d, 12h or 2w (days, hours, weeks), for options such as --older-than."""
    number, unit = text[:-1], text[-1:].lower()
    if unit not in _DURATION_UNITS or not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90d, 12h or 2w")
    return dt.timedelta(**{_DURATION_UNITS[unit]: int(number)})
