"""Helpers for the HTTP tests: a small client per role, places, problem documents."""

from __future__ import annotations

from typing import Any

import httpx

LEIPZIG = "14713"
HALLE = "15002"

#: Small squares (about 280 m × 280 m) in Leipzig city and in Halle (Saale), lon/lat.
LEIPZIG_SQUARE = {"type": "Polygon", "coordinates": [[
    [12.300, 51.300], [12.304, 51.300], [12.304, 51.3025], [12.300, 51.3025], [12.300, 51.300]]]}
HALLE_SQUARE = {"type": "Polygon", "coordinates": [[
    [11.970, 51.480], [11.974, 51.480], [11.974, 51.4825], [11.970, 51.4825], [11.970, 51.480]]]}
#: Leipzig Markt and a point in the Baltic Sea (far outside the region), lon/lat.
LEIPZIG_POINT = {"type": "Point", "coordinates": [12.3752, 51.3406]}
BALTIC_POINT = {"type": "Point", "coordinates": [11.0, 54.5]}


class Client:
    """Calls ``/api/v1`` as one role (``None``: the public) through ``http``.

    ``http`` is the in-process test client of the ``http`` fixture (or any ``httpx.Client``
    with a base URL); ``base`` is the API's path prefix, so ``http.get(client.base + path)``
    works for requests this class has no method for.
    """

    def __init__(self, http: httpx.Client, key: str | None = None) -> None:
        self.http = http
        self.base = "/api/v1"
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(self.base + path, params=params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None,
             etag: str | None = None, **params: Any) -> httpx.Response:
        headers = {**self.headers, **({"If-Match": etag} if etag else {})}
        return self.http.post(self.base + path, json=body, params=params, headers=headers)

    def patch(self, path: str, body: dict[str, Any], etag: str | None,
              **params: Any) -> httpx.Response:
        headers = {**self.headers, **({"If-Match": etag} if etag else {})}
        return self.http.patch(self.base + path, json=body, params=params, headers=headers)

    def created(self, path: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        """POST that must answer 201; the new item with its ``_etag``."""
        response = self.post(path, body, **params)
        assert response.status_code == 201, response.text
        item: dict[str, Any] = response.json()
        assert response.headers["Location"].endswith(f"{path}/{item['id']}")
        item["_etag"] = response.headers["ETag"]
        return item


def problem_fields(response: httpx.Response, status: int) -> list[str | None]:
    """Assert a problem+json answer with ``status``; the fields its ``errors`` name."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    return [e["field"] for e in body.get("errors", [])]


def all_coordinates(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    """Every (x, y) of a GeoJSON geometry, however deeply nested."""
    out: list[tuple[float, float]] = []

    def walk(node: Any) -> None:
        if node and isinstance(node[0], int | float):
            out.append((float(node[0]), float(node[1])))
        else:
            for child in node:
                walk(child)

    walk(geometry["coordinates"])
    return out
