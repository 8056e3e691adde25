"""Export batches to the province platform: numbered per county, re-sendable byte for byte,
acknowledged one at a time. The watermark is `province_sent` (the content hash of each record
the platform has acknowledged): a batch holds the records whose content differs from it, and
its acknowledgement moves it. While a batch awaits its acknowledgement no other is made, so
a record is never in two unacknowledged batches and never left out of the next one."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import defer
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import conflict, invalid, not_found
from services.api.province.export_records import due_records
from services.api.province.schemas import BatchView
from services.db.audit import append_audit
from services.db.province import ProvinceBatch
from services.db.tables import Account
from services.domain.province.exchange_format import (
    Acknowledgement,
    batch_file,
    batch_file_name,
)

# The watermark moves over the batch's records: each now counts as held with the content it was sent with.
_MARK_SENT = text("""
    INSERT INTO province_sent (county_code, kind, key, content_hash, batch_no)
    SELECT b.county_code, r->>0, r->>1, r->>2, b.batch_no
    FROM province_batches b CROSS JOIN LATERAL jsonb_array_elements(b.record_hashes) AS r
    WHERE b.county_code = :county AND b.batch_no = :batch_no
    ON CONFLICT (county_code, kind, key) DO UPDATE SET content_hash = excluded.content_hash, batch_no = excluded.batch_no
""")


def batch_view(batch: ProvinceBatch) -> BatchView:
    return BatchView(
        batch_no=batch.batch_no,
        file_name=batch_file_name(batch.county_code, batch.batch_no),
        record_count=batch.record_count,
        records_by_kind=batch.records_by_kind,
        sha256=batch.sha256,
        created_by=batch.created_by,
        created_at=batch.created_at,
        acknowledged_at=batch.acknowledged_at,
        acknowledged_by=batch.acknowledged_by,
        platform_receipt=batch.platform_receipt,
    )


async def new_batch(session: AsyncSession, account: Account) -> ProvinceBatch | None:
    """The next batch of the officer's county, or None when nothing changed since the last ack."""
    county = account.area_code
    # One export at a time per county: two at once would number and fill their batches alike.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('province-export:' || :c))"), {"c": county})
    waiting = await session.scalar(
        select(col(ProvinceBatch.batch_no)).where(
            col(ProvinceBatch.county_code) == county, col(ProvinceBatch.acknowledged_at).is_(None)
        )
    )
    if waiting is not None:
        raise conflict(
            "batch_unacknowledged",
            f"第{waiting}批次尚未收到省平台确认，请先重新报送该批次并登记平台回执",
            batch_no=waiting,
        )
    changed = await due_records(session, county)
    if not changed:
        return None
    last = await session.scalar(
        select(func.max(ProvinceBatch.batch_no)).where(col(ProvinceBatch.county_code) == county)
    )
    batch_no = (last or 0) + 1
    content, checksum = batch_file(county, batch_no, datetime.now(UTC), changed)
    batch = ProvinceBatch(
        county_code=county,
        batch_no=batch_no,
        record_count=len(changed),
        records_by_kind=dict(sorted(Counter(r.kind.value for r in changed).items())),
        record_hashes=[[r.kind.value, r.key, r.content_hash] for r in changed],
        sha256=checksum,
        content=content,
        created_by=account.username,
    )
    session.add(batch)
    await session.flush()
    await session.refresh(batch)
    await append_audit(
        session, account, "province_export", "province_batch", f"{county}:{batch_no}", {"record_count": len(changed)}
    )
    return batch


async def county_batch(
    session: AsyncSession, account: Account, batch_no: int, for_update: bool = False
) -> ProvinceBatch:
    """A batch of the officer's own county (another county's: 404, like a missing one)."""
    batch = await session.get(ProvinceBatch, (account.area_code, batch_no), with_for_update=for_update)
    if batch is None:
        raise not_found("没有找到该批次")
    return batch


async def acknowledge(session: AsyncSession, account: Account, batch_no: int, ack: Acknowledgement) -> ProvinceBatch:
    """Records the platform's receipt and moves the watermark over the batch's records. A
    receipt given again changes nothing; one that does not match the batch is refused."""
    batch = await county_batch(session, account, batch_no, for_update=True)
    if ack.batch_no != batch.batch_no:
        raise invalid("batch_no", f"回执的批次号（{ack.batch_no}）与所确认的批次（{batch.batch_no}）不一致")
    if ack.sha256 != batch.sha256:
        raise invalid("sha256", "回执的校验值与该批次文件不一致，请重新报送该批次")
    if ack.record_count != batch.record_count:
        raise invalid("record_count", f"平台接收{ack.record_count}条，该批次共{batch.record_count}条，请重新报送该批次")
    if batch.acknowledged_at is not None:
        return batch
    await session.execute(_MARK_SENT, {"county": batch.county_code, "batch_no": batch.batch_no})
    batch.acknowledged_at = datetime.now(UTC)
    batch.acknowledged_by = account.username
    batch.platform_receipt = ack.receipt_id
    session.add(batch)
    await append_audit(
        session,
        account,
        "province_ack",
        "province_batch",
        f"{batch.county_code}:{batch.batch_no}",
        {"receipt_id": ack.receipt_id, "record_count": ack.record_count},
    )
    await session.flush()
    await session.refresh(batch)
    return batch


async def county_batches(session: AsyncSession, account: Account) -> list[ProvinceBatch]:
    return list(
        (
            await session.scalars(
                select(ProvinceBatch)
                .options(defer(ProvinceBatch.content))  # type: ignore[arg-type]
                .where(col(ProvinceBatch.county_code) == account.area_code)
                .order_by(col(ProvinceBatch.batch_no).desc())
            )
        ).all()
    )
