"""The ward profile's `dossiers:` section: how a province's receipt codes look and where
residents look them up (tra cứu hồ sơ)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CODE_PLACEHOLDER = "{code}"


class DossierLookup(BaseModel):
    """A province's dossier codes. Matching ignores case; a code found is upper-cased, as the
    one-stop systems print them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code_pattern: Annotated[str, Field(min_length=1)]
    """A regular expression for one receipt code (mã hồ sơ), e.g. H26.12-251201-0001."""
    lookup_url: Annotated[str, Field(min_length=1)]
    """The provincial portal's lookup link, with `{code}` where the code goes."""
    code_printed_on: Annotated[str, Field(min_length=1)]
    """Where residents find the code, e.g. the receipt (phiếu hẹn, giấy tiếp nhận)."""
    code_example: str | None = None
    """A code as printed, shown to residents who ask how to look a dossier up."""

    @field_validator("code_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"code_pattern is not a valid regular expression: {exc}") from exc
        if compiled.fullmatch("") is not None:
            raise ValueError("code_pattern must not match an empty text")
        return value

    @field_validator("lookup_url")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("lookup_url must start with https://")
        if CODE_PLACEHOLDER not in value:
            raise ValueError("lookup_url must contain {code} where the dossier code goes")
        return value

    @model_validator(mode="after")
    def _example_matches(self) -> DossierLookup:
        example = self.code_example
        if example is not None and not re.fullmatch(self.code_pattern, example, re.IGNORECASE):
            raise ValueError(f"code_example {example!r} does not match code_pattern")
        return self

    def find_code(self, text: str) -> str | None:
        """The first code in `text`, upper-cased; None when there is none."""
        found = re.search(self.code_pattern, text, re.IGNORECASE)
        return found.group(0).upper() if found else None

    def link_for(self, code: str) -> str:
        return self.lookup_url.replace(CODE_PLACEHOLDER, code)
