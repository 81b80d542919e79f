"""Domain errors: what a service says went wrong, in its own words, not in HTTP's.

Services and infrastructure raise these; :mod:`webmap.web.errors` is the one adapter that
turns each kind into an HTTP status and either the API's JSON error format or an HTML page.
Every error names what it is about: ``fields`` maps each bad field to its problem, in plain
English, for the API's ``fields`` member and for the message beside a form's field.

Examples
--------
>>> err = Invalid.field("period_to", "must not be before period_from")
>>> str(err), err.fields
('period_to: must not be before period_from', {'period_to': 'must not be before period_from'})
>>> Invalid.of({"email": "Enter an e-mail address.", "role": "Choose a role."}).message
'email: Enter an e-mail address.'
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """A problem a service reports. ``code`` is a stable machine-readable name."""

    code: str = "error"

    def __init__(
        self,
        message: str,
        fields: Mapping[str, str] | None = None,
        *,
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if code is not None:
            self.code = code  # an instance may be more specific than its class
        self.retry_after = retry_after

    def renamed(self, names: Mapping[str, str]) -> DomainError:
        """The same error with its fields renamed (a form that wraps another's terms)."""
        fields = {names.get(k, k): v for k, v in self.fields.items()}
        first = next(iter(fields), None)
        message = f"{first}: {fields[first]}" if first else self.message
        return type(self)(message, fields, code=self.code, retry_after=self.retry_after)


class Invalid(DomainError):
    """Bad input: each field named with its problem; nothing was written."""

    code = "invalid"

    @classmethod
    def field(cls, name: str, problem: str) -> Invalid:
        return cls(f"{name}: {problem}", {name: problem})

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> Invalid:
        """Several fields at once (a form); the message names the first."""
        first = next(iter(fields))
        return cls(f"{first}: {fields[first]}", fields)


class NotFound(DomainError):
    """No such thing — or one outside the caller's scope, which must look the same."""

    code = "not_found"

    def __init__(self, message: str = "Not found.", **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class Gone(DomainError):
    """It existed for the caller but is no longer in force (revoked, expired, withdrawn)."""

    code = "gone"


class Conflict(DomainError):
    """The record changed since it was read, or the action does not fit its state."""

    code = "conflict"


class PreconditionRequired(DomainError):
    """An update without the version it was based on."""

    code = "version_required"


class Refused(DomainError):
    """The caller may see this but may not do that to it (e.g. disable themselves)."""

    code = "forbidden"


class TooMany(DomainError):
    """A limit was reached; ``retry_after`` says in how many seconds to try again."""

    code = "too_many_requests"


class ImportProblem(ValueError):
    """A file as a whole cannot be imported (unreadable, wrong columns); says why. (For the
    CLI's bulk imports, which report problems row by row otherwise.)"""
