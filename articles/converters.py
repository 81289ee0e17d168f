"""Path converters for Unicode slugs (Django's <slug:> is ASCII-only)."""


class UnicodeSlugConverter:
    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class CategoryPathConverter(UnicodeSlugConverter):
    """A category path such as 金融/财联社/深度."""

    regex = r"[-\w]+(?:/[-\w]+)*"


class TwoDigitConverter:
    """Month or day as two digits, so /2022/4/30/ and /2022/04/30/ are not both URLs."""

    regex = r"[0-9]{2}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return f"{int(value):02d}"


class YearConverter(TwoDigitConverter):
    regex = r"[0-9]{4}"

    def to_url(self, value: int | str) -> str:
        return f"{int(value):04d}"
