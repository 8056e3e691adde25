"""Activities of the self-report workflow: its records, the case it opens, the SMS it sends.

All are safe to retry: records are keyed by (application, seq) and only move forward; the case
start uses a case id derived from the application, and joining an open case uses an update id
derived from it; a notice is stored before it is sent and sent only while not marked sent.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from services.db.failures import constraint_of
from services.db.households import formerly_poor
from services.db.policy_versions import current_policy
from services.db.tables import SelfReport, SelfReportEvent, SelfReportNotice
from services.domain.identification.forms import Lead
from services.domain.identification.state import CaseStart
from services.domain.self_reports.applicant_texts import day, notice_text
from services.domain.self_reports.model import (
    APPLICATION_STATUS_LABELS,
    ApplicationStatus,
    NoticeRequest,
    OpenCaseRequest,
    OpenedCase,
)
from services.domain.self_reports.model import SelfReportEvent as Event
from services.domain.self_reports.tasks import self_report_tasks
from services.domain.vocabulary import Channel
from services.identification_starts import open_or_join
from services.messaging.sms import SmsSender
from services.workers.tasks import SELF_REPORT, TaskSource, sync_tasks

log = logging.getLogger("services.self_reports")
# The error type of a second pending application (the workflow then ends refused).
DUPLICATE = "Duplicate"
# The partial unique indexes that keep one pending application per head and per household.
_ONE_PENDING = frozenset({"ux_self_reports_pending_head", "ux_self_reports_pending_household"})
_CASE_IDS = uuid.UUID("5f2b7c1e-4d0a-4c55-9b8e-2a6f1e0c9d41")


def case_id_for(application_id: str) -> str:
    """The id of the case an application opens, the same on every retry."""
    return uuid.uuid5(_CASE_IDS, application_id).hex


def _task_source(event: Event) -> TaskSource:
    state = event.state
    return TaskSource(
        source=SELF_REPORT,
        case_id=state.application_id,
        workflow_id=event.workflow_id,
        household_code=state.household_code,
        county_code=state.county_code,
        township_code=state.township_code,
        village_code=state.village_code,
    )


class SelfReportActivities:
    def __init__(self, engine: AsyncEngine, client: Client, task_queue: str, sms: SmsSender) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        self._client = client
        self._task_queue = task_queue
        self._sms = sms

    @activity.defn(name="record_self_report_event")
    async def record_self_report_event(self, event: Event) -> None:
        state = event.state
        row = {
            "application_id": state.application_id,
            "workflow_id": event.workflow_id,
            "run_id": event.run_id,
            "applicant_id": state.applicant_id,
            "head_id_number": state.form.id_number,
            "household_code": state.household_code,
            "county_code": state.county_code,
            "township_code": state.township_code,
            "village_code": state.village_code,
            "status": state.status,
            "submitted_at": state.submitted_at,
            "due_at": state.due_at,
            "escalated_at": state.escalated_at,
            "decided_at": state.decided_at,
            "case_id": state.case_id,
            "last_seq": event.seq,
            "state": state.model_dump(mode="json"),
        }
        new = insert(SelfReport).values(row)
        upsert = new.on_conflict_do_update(
            index_elements=[col(SelfReport.application_id)],
            set_={k: new.excluded[k] for k in row if k != "application_id"}
            # The acceptance activity links the case before the workflow records it: never unlink.
            | {"case_id": func.coalesce(new.excluded.case_id, col(SelfReport.case_id)), "updated_at": func.now()},
            where=col(SelfReport.last_seq) < new.excluded.last_seq,
        ).returning(col(SelfReport.application_id))
        history = (
            insert(SelfReportEvent)
            .values(
                application_id=state.application_id,
                seq=event.seq,
                action=event.action,
                actor_username=event.actor.username,
                actor_role=event.actor.role,
                at=event.at,
                data=event.data,
            )
            .on_conflict_do_nothing(constraint="uq_self_report_event_seq")
        )
        try:
            async with self._engine.begin() as conn:
                moved_forward = (await conn.execute(upsert)).first() is not None
                await conn.execute(history)
                if moved_forward:  # an older event retried late must not reopen what a newer one closed
                    await sync_tasks(
                        conn, _task_source(event), self_report_tasks(state), event.seq, event.at, event.actor.username
                    )
        except IntegrityError as error:
            # Only the first event can meet the one-pending-application indexes; any other
            # violation is data PostgreSQL refuses (services/workers/activity_failures.py).
            if constraint_of(error) not in _ONE_PENDING:
                raise
            raise await self._duplicate(state.form.id_number, state.household_code) from None

    async def _duplicate(self, id_number: str, household_code: str | None) -> ApplicationError:
        async with self._sessions() as session:
            query = select(SelfReport).where(col(SelfReport.status) == ApplicationStatus.pending)
            same = col(SelfReport.head_id_number) == id_number
            if household_code is not None:
                same = same | (col(SelfReport.household_code) == household_code)
            existing = (await session.scalars(query.where(same).limit(1))).first()
        submitted = day(existing.submitted_at) if existing else "此前"
        return ApplicationError(
            f"您家已有一份申报（{submitted}提交）正在等待镇里受理，请不要重复申报",
            {
                "code": "application_pending",
                "status": ApplicationStatus.pending,
                "status_label": APPLICATION_STATUS_LABELS[ApplicationStatus.pending],
            },
            type=DUPLICATE,
            non_retryable=True,
        )

    @activity.defn(name="open_case_for_self_report")
    async def open_case_for_self_report(self, request: OpenCaseRequest) -> OpenedCase:
        """Opens the household's case with channel self-report, or joins the case already open."""
        async with self._sessions() as session:
            policy = await current_policy(session)
            flagged = await formerly_poor(session, request.household_code)
        start = CaseStart(
            case_id=case_id_for(request.application_id),
            household_code=request.household_code,
            village_code=request.village_code,
            channel=Channel.self_report,
            lead_note=request.lead_note,
            policy=policy,
            opened_by=request.actor,
            formerly_poor=flagged,
        )
        lead = Lead(channel=Channel.self_report, note=request.lead_note)

        async def link(case_id: str) -> None:
            """Links the case first, so its closing finds the application even before acceptance is recorded."""
            async with self._engine.begin() as conn:
                await conn.execute(
                    update(SelfReport)
                    .where(col(SelfReport.application_id) == request.application_id)
                    .values(case_id=case_id)
                )

        case_id, joined = await open_or_join(
            self._client,
            self._task_queue,
            start,
            lead,
            request.actor,
            start_key=f"self-report:{request.application_id}",
            before=link,
        )
        return OpenedCase(case_id=case_id, joined=joined)

    @activity.defn(name="send_self_report_notice")
    async def send_self_report_notice(self, notice: NoticeRequest) -> None:
        text = notice_text(notice)
        key = (notice.application_id, notice.kind)
        async with self._sessions() as session:
            await session.execute(
                insert(SelfReportNotice)
                .values(application_id=notice.application_id, kind=notice.kind, text=text)
                .on_conflict_do_nothing()
            )
            stored = await session.get(SelfReportNotice, key)
            await session.commit()
        assert stored is not None
        if stored.sent_at is not None:
            return  # a retry after the message went out
        await self._sms.send(notice.phone, stored.text, message_id=f"{notice.application_id}:{notice.kind}")
        async with self._engine.begin() as conn:
            await conn.execute(
                update(SelfReportNotice)
                .where(
                    col(SelfReportNotice.application_id) == notice.application_id,
                    col(SelfReportNotice.kind) == notice.kind,
                )
                .values(sent_at=func.now())
            )
