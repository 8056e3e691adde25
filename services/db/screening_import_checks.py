"""The statements that check a staged chunk of an import against the register: which rows it refuses
(unknown village or household, another village's household, a merged one) and which rows meet a key
the register already holds (a row written earlier: by another job, or by this one, then a duplicate).

Each staged row looks its key up (LATERAL … LIMIT 1: an index probe per row), so a chunk costs the
same however large the register grows; a join would be planned as a scan of the whole table for
every chunk, the file's import then growing with its square."""

from __future__ import annotations

from services.domain.screening.import_rows import KEYS, ImportKind

# Where each kind's rows go: the table holding its key and the job and file row that last wrote it.
TARGETS = {
    ImportKind.households: "household_profiles",
    ImportKind.members: "members",
    ImportKind.incomes: "household_incomes",
    ImportKind.signals: "household_signals",
}


def refusals_sql(kind: ImportKind, stage: str) -> str:
    """(row, field, message) for every staged row the register refuses; $1 is the county's code
    prefix for LIKE."""
    if kind == ImportKind.households:
        return f"""
        SELECT DISTINCT ON (row) row, field, message FROM (
            SELECT s.row, '村代码' AS field, '没有这个村级区划代码，或该村不在本县' AS message
            FROM {stage} s LEFT JOIN areas a ON a.code = s.village_code AND a.level = 'village'
            WHERE a.code IS NULL OR s.village_code NOT LIKE $1
          UNION ALL
            SELECT s.row, '户编号', CASE WHEN h.merged_into IS NOT NULL THEN '该户已并入其他农户'
                                        ELSE '该户编号已登记在其他村' END
            FROM {stage} s CROSS JOIN LATERAL (
                SELECT h.village_code, h.merged_into FROM households h WHERE h.code = s.household_code LIMIT 1) h
            WHERE h.village_code <> s.village_code OR h.merged_into IS NOT NULL
        ) refused ORDER BY row"""
    unknown = f"""
        SELECT s.row, '户编号' AS field, '户编号未登记，或该户不在本县' AS message
        FROM {stage} s LEFT JOIN LATERAL (
            SELECT h.code, h.county_code FROM households h
            WHERE h.code = s.household_code AND h.merged_into IS NULL LIMIT 1) h ON true
        WHERE h.code IS NULL OR h.county_code <> substr($1, 1, 6) || '000000'"""
    if kind == ImportKind.members:
        # A person moves to another household by a member change (户籍变动), which keeps the history.
        return f"""
        SELECT DISTINCT ON (row) row, field, message FROM ({unknown}
          UNION ALL
            SELECT s.row, '身份证号', '此人已是其他农户的在册成员，迁移请办理户籍变动'
            FROM {stage} s CROSS JOIN LATERAL (
                SELECT m.household_code FROM members m
                WHERE m.id_number = s.id_number AND m.ended_on IS NULL LIMIT 1) m
            WHERE m.household_code <> s.household_code
        ) refused ORDER BY row"""
    return unknown + " ORDER BY s.row"


def held_sql(kind: ImportKind, stage: str) -> str:
    """(row, import_job, import_row) for every staged row whose key the register holds; the job and
    row are those that last wrote it (NULL for a household registered but never imported)."""
    if kind == ImportKind.households:
        return f"""
        SELECT s.row, p.import_job, p.import_row
        FROM {stage} s
        CROSS JOIN LATERAL (SELECT 1 FROM households h WHERE h.code = s.household_code LIMIT 1) h
        LEFT JOIN LATERAL (
            SELECT p.import_job, p.import_row FROM household_profiles p
            WHERE p.household_code = s.household_code LIMIT 1) p ON true"""
    key = " AND ".join(f"t.{k} = s.{k}" for k in KEYS[kind])
    if kind == ImportKind.members:
        key += " AND t.ended_on IS NULL"
    return f"""
        SELECT s.row, t.import_job, t.import_row
        FROM {stage} s CROSS JOIN LATERAL (
            SELECT t.import_job, t.import_row FROM {TARGETS[kind]} t WHERE {key} LIMIT 1) t"""
