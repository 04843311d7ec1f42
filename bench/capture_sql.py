"""Capture the SQL the service sends for each benchmark case, as pgbench and wrk scripts.

    .venv/bin/python bench/capture_sql.py --database-url URL --cases bench/cases.tsv --out DIR

The app is built in-process (:func:`app.main.create_app`, the service's own settings and
engine) and every case is sent once through Starlette's ``TestClient`` to warm up, then once
more while listeners on the app's engine record what reaches the database:

- ``after_cursor_execute``: each statement as psycopg2 sent it (``cursor.query``, parameters
  already interpolated, so the text is the literal SQL the server received);
- the pool's ``checkout`` (with ``pool_pre_ping`` the pool first sends ``SELECT 1`` on the
  connection, outside the statement events) and ``reset`` (the ``ROLLBACK`` that ends a
  read when the connection goes back to the pool). psycopg2 opens the transaction itself
  with a ``BEGIN`` before the first statement; no event shows it.

Nothing of the SQL is written down here: the query builder may change, the capture follows.

Per case, ``DIR`` receives:

- ``NAME.sql``: the pgbench script of the statements that produce the answer (``SELECT``,
  ``WITH``, an ``EXPLAIN`` whose estimate becomes a count …; session statements such as
  ``SET TRANSACTION READ ONLY`` left out), each in its own implicit transaction: the floor,
  what the database must do for the request;
- ``NAME.request.sql``: everything one request costs the database, in the order it happens:
  per connection taken, ``BEGIN``, the pre-ping ``SELECT 1``, every captured statement,
  ``ROLLBACK``;
- ``NAME.lua``: the wrk script (method, body, headers);
- ``NAME.explain.txt`` (``--explain``): ``EXPLAIN (ANALYZE, BUFFERS)`` of each page statement,
  run on a connection of the app's engine (same session settings as the service);

and ``manifest.tsv`` lists, per case: name, method, path, HTTP status, response bytes,
connections taken, page statements, all statements.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

with warnings.catch_warnings():  # Starlette's advice to move to httpx2 is not ours to act on
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402

#: First words of statements that set up or end a session or transaction, not the answer.
SESSION_KEYWORDS = frozenset({
    "SET", "RESET", "SHOW", "BEGIN", "START", "COMMIT", "ROLLBACK", "END", "SAVEPOINT",
    "RELEASE", "DISCARD",
})


@dataclass(frozen=True)
class Case:
    """One benchmark request."""

    name: str
    method: str
    path: str
    body: str | None = None


@dataclass
class Recorder:
    """What the app's engine sent, in order: ``("checkout" | "sql" | "reset", text)``."""

    events: list[tuple[str, str]] = field(default_factory=list)
    active: bool = False

    def add(self, kind: str, sql: str = "") -> None:
        if self.active:
            self.events.append((kind, sql))


def read_cases(path: Path) -> list[Case]:
    """``name<TAB>method<TAB>path[<TAB>JSON body]`` lines; ``#`` starts a comment line."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) not in (3, 4):
            raise SystemExit(f"{path}:{number}: expected name, method, path[, body] by tabs")
        body = parts[3].strip() if len(parts) == 4 and parts[3].strip() else None
        if body is not None:
            json.loads(body)  # refuse a malformed body here, not as 422s under load
        cases.append(Case(parts[0].strip(), parts[1].strip().upper(), parts[2].strip(), body))
    if len({c.name for c in cases}) != len(cases):
        raise SystemExit(f"{path}: case names must be unique")
    return cases


def attach(engine: Engine, recorder: Recorder) -> None:
    """Record statements, checkouts and resets of ``engine``."""

    def after_execute(conn: Any, cursor: Any, statement: str, parameters: Any,
                      context: Any, executemany: bool) -> None:
        sent = getattr(cursor, "query", None)  # psycopg2: the bytes sent to the server
        recorder.add("sql", sent.decode() if isinstance(sent, bytes) else statement)

    event.listen(engine, "after_cursor_execute", after_execute)
    event.listen(engine.pool, "checkout", lambda *_: recorder.add("checkout"))
    event.listen(engine.pool, "reset", lambda *_: recorder.add("reset"))


def is_page_statement(sql: str) -> bool:
    words = sql.lstrip().split(None, 1)
    return bool(words) and words[0].upper().rstrip(";") not in SESSION_KEYWORDS


def pgbench_script(statements: list[str]) -> str:
    """Statements for pgbench: each ends with ``;`` (pgbench reads multi-line SQL)."""
    return "".join(s.rstrip().rstrip(";") + ";\n" for s in statements)


def request_script(events: list[tuple[str, str]], pre_ping: bool) -> str:
    """The whole per-request conversation with the database, as one pgbench script."""
    out: list[str] = []
    in_transaction = False
    for kind, sql in events:
        if kind == "checkout":
            if pre_ping:
                out += ["BEGIN", "SELECT 1"]  # the ping opens psycopg2's transaction
                in_transaction = True
        elif kind == "sql":
            if not in_transaction:
                out.append("BEGIN")
                in_transaction = True
            out.append(sql)
        elif kind == "reset" and in_transaction:
            out.append("ROLLBACK")
            in_transaction = False
    return pgbench_script(out)


def lua_script(case: Case) -> str:
    """A wrk script sending ``case`` (wrk's Lua API: method, body, headers)."""
    lines = [f'wrk.method = "{case.method}"']
    if case.body is not None:
        lines.append(f"wrk.body = {json.dumps(case.body)}")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    return "\n".join(lines) + "\n"


def explain(engine: Engine, statements: list[str]) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of each statement, on a connection like the service's."""
    parts = []
    with engine.connect() as conn:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        setting = conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one()
        for number, sql in enumerate(statements, 1):
            head = f"-- statement {number} (max_parallel_workers_per_gather = {setting})\n"
            if sql.lstrip()[:7].upper() == "EXPLAIN":
                parts.append(head + "(an EXPLAIN itself, not analysed)\n" + sql.strip())
                continue
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%")).scalars().all()
            parts.append(head + "\n".join(str(line) for line in plan))
    return "\n\n".join(parts) + "\n"


def send(client: TestClient, case: Case) -> tuple[int, int]:
    headers = {"Content-Type": "application/json"} if case.body is not None else {}
    response = client.request(case.method, case.path, content=case.body, headers=headers)
    return response.status_code, len(response.content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000",
                        help="base URL the service is reached at (links are built from it)")
    parser.add_argument("--explain", action="store_true",
                        help="also write EXPLAIN (ANALYZE, BUFFERS) of each page statement")
    args = parser.parse_args(argv)
    cases = read_cases(args.cases)
    args.out.mkdir(parents=True, exist_ok=True)

    # The service's settings as uvicorn would read them, on the benchmark database.
    app = create_app(Settings(database_url=args.database_url))
    recorder = Recorder()
    manifest = []
    failed = False
    with TestClient(app, base_url=args.base_url, raise_server_exceptions=False) as client:
        engine: Engine = app.state.engine
        attach(engine, recorder)
        pre_ping = bool(getattr(engine.pool, "_pre_ping", False))
        for case in cases:
            send(client, case)  # warm up: plans, caches, first connections
            recorder.events, recorder.active = [], True
            status, size = send(client, case)
            recorder.active = False
            events = list(recorder.events)
            statements = [sql for kind, sql in events if kind == "sql"]
            page = [sql for sql in statements if is_page_statement(sql)]
            checkouts = sum(1 for kind, _ in events if kind == "checkout")
            (args.out / f"{case.name}.sql").write_text(pgbench_script(page), encoding="utf-8")
            (args.out / f"{case.name}.request.sql").write_text(
                request_script(events, pre_ping), encoding="utf-8")
            (args.out / f"{case.name}.lua").write_text(lua_script(case), encoding="utf-8")
            if args.explain and page:
                (args.out / f"{case.name}.explain.txt").write_text(
                    explain(engine, page), encoding="utf-8")
            manifest.append([case.name, case.method, case.path, str(status), str(size),
                             str(checkouts), str(len(page)), str(len(statements))])
            print(f"[bench] {case.name}: HTTP {status}, {size} bytes, {checkouts} connection(s),"
                  f" {len(page)} page statement(s) of {len(statements)}", file=sys.stderr)
            if not 200 <= status < 300 or not page:
                failed = True
    (args.out / "manifest.tsv").write_text(
        "".join("\t".join(row) + "\n" for row in manifest), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
