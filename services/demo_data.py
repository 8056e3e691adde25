"""Demo data for 靖边县 (610824000000): areas, accounts for every role, households.

    uv run python -m services.demo_data

Loading twice changes nothing (every insert skips rows that exist). Township and
village codes below 靖边县 are illustrative, not the official list.
"""

from __future__ import annotations

import asyncio
import os
import random
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from services.api.people.security import hash_password
from services.api.registry.households import household_code
from services.db.engine import create_engine
from services.db.tables import Account, Area, DepartmentRecord, Household, Member
from services.departments.secret_box import SecretBox
from services.domain.areas import county_of, township_of
from services.domain.personal_data import id_check_char
from services.domain.vocabulary import DEPARTMENT_KIND_LABELS, DepartmentKind
from services.settings import Settings, get_settings

COUNTY = ("610824000000", "靖边县")
TOWNSHIPS = {
    "610824100000": ("东坑镇", {"610824100201": "东坑村", "610824100202": "伙场湾村", "610824100203": "金佛坪村"}),
    "610824101000": ("青阳岔镇", {"610824101201": "青阳岔村", "610824101202": "大路沟村"}),
    "610824102000": ("宁条梁镇", {"610824102201": "宁条梁村", "610824102202": "五台村"}),
    "610824103000": ("周河镇", {"610824103201": "周河村", "610824103202": "大涧村"}),
}
DEMO_PASSWORD = "Demo@2026"
# username, display name, role, area
DEMO_ACCOUNTS = [
    ("admin", "系统管理员", "admin", "610824000000"),
    ("county.officer", "县乡村振兴局 李科长", "county_officer", "610824000000"),
    ("county.officer2", "县乡村振兴局 孙干事", "county_officer", "610824000000"),
    ("dongkeng.approver", "东坑镇 王审核", "township_approver", "610824100000"),
    ("dongkeng.approver2", "东坑镇 周审核", "township_approver", "610824100000"),
    ("qingyangcha.approver", "青阳岔镇 赵审核", "township_approver", "610824101000"),
    ("dongkeng.cadre", "东坑村 张村干部", "village_cadre", "610824100201"),
    ("dongkeng.cadre2", "东坑村 刘网格员", "village_cadre", "610824100201"),
    ("dongkeng.team", "东坑村 李第一书记", "village_team", "610824100201"),
    ("dongkeng.helper", "东坑村 赵帮扶干部", "support_cadre", "610824100201"),
    ("dongkeng.grid", "东坑村 王网格员", "grid_worker", "610824100201"),
    ("huochangwan.cadre", "伙场湾村 陈村干部", "village_cadre", "610824100202"),
    ("qingyangcha.cadre", "青阳岔村 杨村干部", "village_cadre", "610824101201"),
]
HOUSEHOLDS_PER_VILLAGE = 4
# Every department kind of 靖边县, played by the department simulator (python -m services.department_simulator
# --demo). Public development values, like the other demo secrets.
DEMO_DEPARTMENT_SECRETS = {kind.value: f"demo-{kind.value}-shared-secret-2026-0123456789" for kind in DepartmentKind}
DEMO_SIMULATOR_URL = "http://127.0.0.1:8300"
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = [
    "建国",
    "秀英",
    "志强",
    "桂兰",
    "海军",
    "春梅",
    "永刚",
    "玉兰",
    "小龙",
    "丽娟",
    "文斌",
    "红霞",
    "宏伟",
    "晓燕",
    "俊杰",
    "淑珍",
]


def demo_id_number(area6: str, born: date, serial: int, male: bool) -> str:
    sequence = f"{serial % 100:02d}{(serial % 5) * 2 + (1 if male else 0)}"
    first17 = f"{area6}{born:%Y%m%d}{sequence}"
    return first17 + id_check_char(first17)


def _areas() -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = [{"code": COUNTY[0], "name": COUNTY[1], "level": "county", "parent_code": None}]
    for t_code, (t_name, villages) in TOWNSHIPS.items():
        rows.append({"code": t_code, "name": t_name, "level": "township", "parent_code": COUNTY[0]})
        rows += [{"code": v, "name": n, "level": "village", "parent_code": t_code} for v, n in villages.items()]
    return rows


def _households(rng: random.Random, first_number: int) -> tuple[list[dict], list[dict]]:
    households, members = [], []
    number = first_number
    for villages in (v for _, v in TOWNSHIPS.values()):
        for village_code in villages:
            for _ in range(HOUSEHOLDS_PER_VILLAGE):
                number += 1
                code = household_code(village_code, number)
                surname = rng.choice(_SURNAMES)
                head_born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 35))
                people = [(surname + rng.choice(_GIVEN), "户主", True, head_born, "full")]
                people.append(
                    (
                        rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                        "配偶",
                        False,
                        head_born + timedelta(days=rng.randrange(-900, 900)),
                        "partial",
                    )
                )
                for _ in range(rng.randrange(0, 3)):
                    people.append(
                        (
                            surname + rng.choice(_GIVEN),
                            "子女",
                            rng.random() < 0.5,
                            head_born + timedelta(days=365 * rng.randrange(22, 32)),
                            "full",
                        )
                    )
                households.append(
                    {
                        "code": code,
                        "county_code": county_of(village_code),
                        "township_code": township_of(village_code),
                        "village_code": village_code,
                        "head_name": people[0][0],
                        "address": f"{villages[village_code]}{rng.randrange(1, 9)}组{rng.randrange(1, 60)}号",
                        "phone": f"13{rng.randrange(100000000, 999999999)}",
                        "status": "not_monitored",
                        "created_by": "demo",
                    }
                )
                for i, (name, relation, male, born, labour) in enumerate(people):
                    members.append(
                        {
                            "household_code": code,
                            "name": name,
                            "relation": relation,
                            "id_number": demo_id_number("610824", born, number * 5 + i, male),
                            "sex": "male" if male else "female",
                            "birth_date": born,
                            "labour_capacity": labour,
                        }
                    )
    return households, members


async def load_demo_data(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(Area).values(_areas()).on_conflict_do_nothing())
        password_hash = hash_password(DEMO_PASSWORD)
        await conn.execute(
            insert(Account)
            .values(
                [
                    {"username": u, "display_name": d, "role": r, "area_code": a, "password_hash": password_hash}
                    for u, d, r, a in DEMO_ACCOUNTS
                ]
            )
            .on_conflict_do_nothing()
        )
        if await conn.scalar(select(func.count()).select_from(Household).where(col(Household.created_by) == "demo")):
            return
        first_number: int = (await conn.execute(select(func.nextval("household_number_seq")))).scalar_one()
        households, members = _households(random.Random(610824), first_number)
        await conn.execute(select(func.setval("household_number_seq", first_number + len(households))))
        await conn.execute(insert(Household).values(households))
        await conn.execute(insert(Member).values(members).on_conflict_do_nothing())


async def load_demo_departments(engine: AsyncEngine, settings: Settings, simulator_url: str) -> None:
    """Registers every department kind for 靖边县 at the simulator. Rows an admin has changed since
    (updated_by is no longer `demo`) are left alone; demo rows follow the simulator's address."""
    box = SecretBox(settings.department_secret_key)
    rows = [
        {
            "county_code": COUNTY[0],
            "kind": kind,
            "name": DEPARTMENT_KIND_LABELS[DepartmentKind(kind)],
            "base_url": f"{simulator_url.rstrip('/')}/{kind}",
            "secret_sealed": box.seal(secret, COUNTY[0], kind),
            "enabled": True,
            "created_by": "demo",
            "updated_by": "demo",
        }
        for kind, secret in DEMO_DEPARTMENT_SECRETS.items()
    ]
    upsert = insert(DepartmentRecord).values(rows)
    upsert = upsert.on_conflict_do_update(
        constraint="uq_departments_county_kind",
        set_={"base_url": upsert.excluded.base_url, "secret_sealed": upsert.excluded.secret_sealed, "enabled": True},
        where=col(DepartmentRecord.updated_by) == "demo",
    )
    async with engine.begin() as conn:
        await conn.execute(upsert)


async def main() -> None:
    settings = get_settings()
    engine = create_engine(settings.require_database_url())
    simulator_url = os.environ.get("DEPARTMENT_SIMULATOR_URL", DEMO_SIMULATOR_URL)
    try:
        await load_demo_data(engine)
        await load_demo_departments(engine, settings, simulator_url)
    finally:
        await engine.dispose()
    print(f"demo departments registered at the simulator {simulator_url}")
    print(
        f"demo data loaded: {len(DEMO_ACCOUNTS)} accounts (password {DEMO_PASSWORD}), "
        f"{sum(len(v) for _, v in TOWNSHIPS.values()) * HOUSEHOLDS_PER_VILLAGE} households"
    )


if __name__ == "__main__":
    asyncio.run(main())
