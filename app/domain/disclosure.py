"""Which parcel fields the public may see (derived from the field registry).

A parcel's ``public_fields`` lists the optional fields its editor has released; fields in
:data:`DISCLOSABLE_FIELDS` that are not listed are internal (analyst or higher).
:data:`ALWAYS_INTERNAL_FIELDS` are never shown to the public.
"""

from __future__ import annotations

from app.domain.parcel_fields import DISCLOSABLE_FIELDS, PARCEL_FIELDS, Visibility

__all__ = ["ALWAYS_INTERNAL_FIELDS", "DEFAULT_PUBLIC_FIELDS", "DISCLOSABLE_FIELDS"]

#: Released by default on a new parcel (the marketing contact).
DEFAULT_PUBLIC_FIELDS: tuple[str, ...] = ("contact_name", "contact_email")

#: Fields only analysts, editors and admins see.
ALWAYS_INTERNAL_FIELDS: tuple[str, ...] = tuple(
    f.name for f in PARCEL_FIELDS if f.visibility is Visibility.INTERNAL)
