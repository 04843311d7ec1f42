"""Which parcel fields the public may see.

A parcel's ``public_fields`` lists the optional fields its editor has released; fields in
:data:`DISCLOSABLE_FIELDS` that are not listed are internal (analyst or higher).
:data:`ALWAYS_INTERNAL_FIELDS` are never shown to the public.
"""

from __future__ import annotations

#: Optional fields that an editor may release to the public, per parcel.
DISCLOSABLE_FIELDS: tuple[str, ...] = (
    "price_eur_m2", "owner_type", "contact_name", "contact_email", "contact_phone",
)

#: Released by default on a new parcel (the marketing contact).
DEFAULT_PUBLIC_FIELDS: tuple[str, ...] = ("contact_name", "contact_email")

#: Fields only analysts, editors and admins see.
ALWAYS_INTERNAL_FIELDS: tuple[str, ...] = ("owner_name", "internal_notes")
