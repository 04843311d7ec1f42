"""``GET /api/v1/vocabularies``: every code with its German label (clients never hard-code them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, WithJsonSchema

from app.domain.errors import NotFound
from app.domain.vocab import VOCABULARIES, Vocabulary

router = APIRouter(prefix="/api/v1", tags=["Vokabulare"])


class TermOut(BaseModel):
    """One code and its German label."""

    code: str
    label: str
    description: str | None = None


class VocabularyOut(BaseModel):
    """A vocabulary; ``ordered`` says whether the order of the terms carries meaning."""

    name: str
    title: str
    ordered: bool
    terms: list[TermOut]


def _out(v: Vocabulary) -> VocabularyOut:
    return VocabularyOut(
        name=v.name, title=v.title, ordered=v.ordered,
        terms=[TermOut(code=t.code, label=t.label, description=t.description) for t in v.terms],
    )


@router.get("/vocabularies", response_model=dict[str, VocabularyOut], summary="All vocabularies")
def list_vocabularies() -> dict[str, VocabularyOut]:
    """All controlled vocabularies, keyed by name."""
    return {name: _out(v) for name, v in VOCABULARIES.items()}


@router.get(
    "/vocabularies/{name}",
    response_model=VocabularyOut,
    summary="One vocabulary",
    responses={
        404: {"description": "Unknown vocabulary", "content": {"application/problem+json": {}}}
    },
)
def get_vocabulary(
    name: Annotated[str, WithJsonSchema({"type": "string", "enum": list(VOCABULARIES)}),
                    Path(description="Vocabulary name, e.g. availability")],
) -> VocabularyOut:
    """One vocabulary by name (e.g. ``availability``)."""
    if name not in VOCABULARIES:
        raise NotFound(f"unknown vocabulary {name!r}; known: {', '.join(VOCABULARIES)}")
    return _out(VOCABULARIES[name])
