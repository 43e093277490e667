"""Full-text search on both databases, behind one small interface (ARCHITECTURE.md: search).

A searchable thing (tickets, later KB articles) keeps one *document table*: a plain Django model
whose primary key is the searched row's id, a few scope columns (vendor, organisation) and text
columns, each with a weight from "A" (most important) to "D". This module adds the index to it:

* SQLite: an FTS5 virtual table `<table>_fts` with the document table as external content,
  ranked by bm25 with per-column weights, kept in step with the document table by its
  triggers (FTS5's external-content pattern; `trigger_operation`, a migration per index);
* PostgreSQL: a `search_vector` tsvector column (weighted, `simple` configuration) with a GIN
  index, ranked by `ts_rank`.

Both index the same tokens: runs of letters and digits, lower-cased, no stemming, each query
term matching as a prefix, all terms required. The services that write the searched rows call
`FullTextIndex.write` explicitly in their own transaction (no signals), and `rebuild`
re-creates everything from the document table. On SQLite the index follows the document rows
written by its triggers rather than by statements of its own after them: each write of
documents is one INSERT on both databases (issue 16.2, N-2), nothing read back.

Snippets are cut in Python from the text the caller may see, escaped first, then marked up:
nothing the database returns is trusted as HTML.
"""

# Table and column names below come from code (an index definition), never from a request;
# every value is a query parameter. Hence the file-wide exemption from the SQL-string check.
# ruff: noqa: S608

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from supportdesk.core.queries import insert_statement, statement_cursor

MAX_TERMS = 8
CANDIDATES = 1000
TERM_MAX_CHARS = 40
_TOKEN = re.compile(r"[^\W_]+")
# bm25 weight per column weight class; ts_rank takes the same ratios as {D, C, B, A}.
_BM25_WEIGHTS = {"A": 10.0, "B": 4.0, "C": 2.0, "D": 1.0}
_TS_RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"


def query_terms(text: str) -> list[str]:
    """The words of a query as both indexes tokenise them: lower-case letter/digit runs."""
    terms = [t[:TERM_MAX_CHARS] for t in _TOKEN.findall((text or "").lower())]
    return list(dict.fromkeys(terms))[:MAX_TERMS]


_SchemaStep = Callable[[BaseDatabaseWrapper, Callable[[str], Any]], None]


def _reversible(forward_step: _SchemaStep, backward_step: _SchemaStep) -> Any:
    """A `RunPython` that runs `forward_step` on migrating and `backward_step` on unapplying,
    each with the migrating connection and its schema editor's `execute`."""
    from django.db import migrations

    def forward(apps: Any, schema_editor: Any) -> None:
        forward_step(schema_editor.connection, schema_editor.execute)

    def backward(apps: Any, schema_editor: Any) -> None:
        backward_step(schema_editor.connection, schema_editor.execute)

    return migrations.RunPython(forward, backward)


@dataclass(frozen=True)
class FullTextIndex:
    table: str  # the document table
    key: str  # its primary-key column: the id of the searched row
    columns: tuple[tuple[str, str], ...]  # (text column, weight "A".."D")

    @property
    def fts_table(self) -> str:
        return f"{self.table}_fts"

    @property
    def _names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def _vector_sql(self, *, marks: bool = False) -> str:
        """The weighted vector of the text columns, or with `marks` of bound values (%s::text
        each, in the order of `columns`)."""
        parts = [
            f"setweight(to_tsvector('simple', regexp_replace(coalesce("
            f"{'%s::text' if marks else name}, ''), '[^[:alnum:]]+', ' ', 'g')), '{weight}')"
            for name, weight in self.columns
        ]
        return " || ".join(parts)

    # -- schema (used by migrations; each a no-op on the other database) -------------------

    def create_schema(self, conn: BaseDatabaseWrapper, execute: Callable[[str], Any]) -> None:
        if conn.vendor == "sqlite":
            execute(
                f"CREATE VIRTUAL TABLE {self.fts_table} USING fts5("
                f"{', '.join(self._names)}, content='{self.table}', content_rowid='{self.key}', "
                "tokenize='unicode61 remove_diacritics 0')"
            )
            execute(f"INSERT INTO {self.fts_table}({self.fts_table}) VALUES ('rebuild')")
        elif conn.vendor == "postgresql":
            execute(f"ALTER TABLE {self.table} ADD COLUMN search_vector tsvector")
            execute(f"UPDATE {self.table} SET search_vector = {self._vector_sql()}")
            execute(
                f"CREATE INDEX {self.table}_search_gin ON {self.table} USING gin (search_vector)"
            )

    def drop_schema(self, conn: BaseDatabaseWrapper, execute: Callable[[str], Any]) -> None:
        if conn.vendor == "sqlite":
            execute(f"DROP TABLE IF EXISTS {self.fts_table}")
        elif conn.vendor == "postgresql":
            execute(f"DROP INDEX IF EXISTS {self.table}_search_gin")
            execute(f"ALTER TABLE {self.table} DROP COLUMN IF EXISTS search_vector")

    def migration_operation(self) -> Any:
        """A reversible `RunPython` that adds the index for whichever database migrates."""
        return _reversible(self.create_schema, self.drop_schema)

    def create_triggers(self, conn: BaseDatabaseWrapper, execute: Callable[[str], Any]) -> None:
        """The document table's triggers that keep the FTS5 index in step (SQLite; none on
        PostgreSQL, where the INSERT writes the vector itself)."""
        if conn.vendor != "sqlite":
            return
        fts, key, names = self.fts_table, self.key, self._names
        cols = ", ".join(names)

        def values(row: str) -> str:
            return ", ".join([f"{row}.{key}", *(f"{row}.{n}" for n in names)])

        add = f"INSERT INTO {fts}(rowid, {cols}) VALUES ({values('new')});"
        drop = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', {values('old')});"
        execute(f"CREATE TRIGGER {self.table}_ai AFTER INSERT ON {self.table} BEGIN {add} END")
        execute(f"CREATE TRIGGER {self.table}_ad AFTER DELETE ON {self.table} BEGIN {drop} END")
        execute(
            f"CREATE TRIGGER {self.table}_au AFTER UPDATE ON {self.table} BEGIN {drop} {add} END"
        )

    def drop_triggers(self, conn: BaseDatabaseWrapper, execute: Callable[[str], Any]) -> None:
        if conn.vendor == "sqlite":
            for suffix in ("ai", "ad", "au"):
                execute(f"DROP TRIGGER IF EXISTS {self.table}_{suffix}")

    def trigger_operation(self) -> Any:
        """A reversible `RunPython` that adds the triggers (`create_triggers`)."""
        return _reversible(self.create_triggers, self.drop_triggers)

    # -- writes ------------------------------------------------------------------------------

    def write(
        self, rows: Sequence[Mapping[str, Any]], *, keys: Iterable[int] = (), fresh: bool = False
    ) -> None:
        """Replace the documents of `rows` (each a full row of the document table) and drop
        those of `keys` not among them. `fresh`: the documents do not exist yet (a record just
        created), so nothing is deleted first and the INSERT may be held with the creation's
        others (`inserts_together`). Call inside the writing service's transaction."""
        if not rows and not keys:
            return
        insert = self._insert(rows) if rows else None
        if fresh:
            if insert is not None:
                insert_statement(connection, *insert)
            return
        wanted = sorted({int(r[self.key]) for r in rows} | {int(k) for k in keys})
        with statement_cursor(connection) as cur:  # prepared: a text per count of rows
            marks = ", ".join(["%s"] * len(wanted))
            cur.execute(f"DELETE FROM {self.table} WHERE {self.key} IN ({marks})", wanted)
            if insert is not None:  # after its DELETE: never held, or it would come back later
                cur.execute(*insert)

    def _insert(self, rows: Sequence[Mapping[str, Any]]) -> tuple[str, list[Any]]:
        """The INSERT of the documents `rows` and its values."""
        names = list(rows[0].keys())
        cols = ", ".join(names)
        params = [r[n] for r in rows for n in names]
        row_marks = "(" + ", ".join(["%s"] * len(names))
        if connection.vendor == "postgresql":
            # each row with its vector, in the one INSERT (its texts bound twice)
            row_marks += ", " + self._vector_sql(marks=True)
            params = [
                v for r in rows for v in [*(r[n] for n in names), *(r[n] for n in self._names)]
            ]
            cols += ", search_vector"
        values = ", ".join([row_marks + ")"] * len(rows))
        return f"INSERT INTO {self.table} ({cols}) VALUES {values}", params

    def rebuild(self) -> None:
        """Re-derive the whole index from the document table."""
        with connection.cursor() as cur:
            if connection.vendor == "sqlite":
                cur.execute(f"INSERT INTO {self.fts_table}({self.fts_table}) VALUES ('rebuild')")
            elif connection.vendor == "postgresql":
                cur.execute(f"UPDATE {self.table} SET search_vector = {self._vector_sql()}")

    # -- reads -------------------------------------------------------------------------------

    def search(
        self,
        *,
        terms: Sequence[str],
        visible: Sequence[str],
        where: Sequence[tuple[str, Sequence[Any]]] = (),
        limit: int,
        offset: int = 0,
        candidates: int = CANDIDATES,
    ) -> list[tuple[int, float]]:
        """Keys of the documents matching every term in a `visible` column, best first.

        `where` adds conditions on the document table, aliased `d` (tenancy, filters). The
        rank is "higher is better" on both databases. Only the newest `candidates` matches are
        ranked: a word found in most documents would otherwise cost a rank computation per
        document (seconds at 100k tickets); below that many matches the ranking is complete.
        """
        if not terms:
            return []
        conditions = [sql for sql, _ in where]
        params: list[Any] = [p for _, ps in where for p in ps]
        extra = "".join(f" AND ({c})" for c in conditions)
        if connection.vendor == "sqlite":
            quoted = " AND ".join(f'"{t}"*' for t in terms)
            match = f"{{{' '.join(visible)}}} : ({quoted})"
            weights = ", ".join(str(_BM25_WEIGHTS[w]) for _, w in self.columns)
            inner = (
                f"SELECT d.{self.key} AS k, -bm25({self.fts_table}, {weights}) AS r "
                f"FROM {self.fts_table} JOIN {self.table} d ON d.{self.key} = "
                f"{self.fts_table}.rowid WHERE {self.fts_table} MATCH %s{extra} "
                f"ORDER BY {self.fts_table}.rowid DESC LIMIT %s"
            )
            args = [match, *params, candidates, limit, offset]
        else:
            labels = "".join(w for n, w in self.columns if n in visible)
            restrict = "" if len(visible) == len(self.columns) else labels
            tsquery = " & ".join(f"{t}:*{restrict}" for t in terms)
            # The query is repeated rather than shared through a CTE so that the planner sees
            # it: a common word walks the primary key backwards, a rare one uses the GIN index.
            inner = (
                f"SELECT d.{self.key} AS k, ts_rank('{_TS_RANK_WEIGHTS}', d.search_vector, "
                f"to_tsquery('simple', %s)) AS r FROM (SELECT d.{self.key}, d.search_vector "
                f"FROM {self.table} d "
                f"WHERE d.search_vector @@ to_tsquery('simple', %s){extra} "
                f"ORDER BY d.{self.key} DESC LIMIT %s) d"
            )
            args = [tsquery, tsquery, *params, candidates, limit, offset]
        sql = f"SELECT k, r FROM ({inner}) c ORDER BY r DESC, k DESC LIMIT %s OFFSET %s"
        with connection.cursor() as cur:
            cur.execute(sql, args)
            return [(int(k), float(r)) for k, r in cur.fetchall()]


def snippet(texts: Sequence[str], terms: Sequence[str], *, width: int = 200) -> SafeString:
    """A window of the text that matches most terms, escaped, with the matches in <mark>.

    `texts` must be only what the reader may see; the first one wins a tie.
    """
    if not terms:
        return mark_safe(escape(" ".join((texts[0] if texts else "").split())[:width]))
    pattern = re.compile(
        r"(?<![^\W_])(?:" + "|".join(re.escape(t) for t in terms) + r")[^\W_]*", re.IGNORECASE
    )
    best, best_score = "", -1
    for text in texts:
        flat = " ".join((text or "").split())
        found = [m.group().lower() for m in pattern.finditer(flat)]
        score = sum(any(word.startswith(t) for word in found) for t in terms)
        if score > best_score:
            best, best_score = flat, score
    first = pattern.search(best)
    start = 0 if first is None else max(0, first.start() - width // 3)
    if start:
        space = best.find(" ", start)
        start = space + 1 if 0 <= space < (first.start() if first else start) else start
    end = min(len(best), start + width)
    window = best[start:end]
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(window):
        out.append(escape(window[pos : m.start()]))
        out.append(f"<mark>{escape(m.group())}</mark>")
        pos = m.end()
    out.append(escape(window[pos:]))
    prefix = "… " if start else ""
    suffix = " …" if end < len(best) else ""
    return mark_safe(prefix + "".join(out) + suffix)
