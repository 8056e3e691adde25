"""A notice activity that runs again (a retry after a crash or timeout) sends no second SMS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from services.db.engine import create_engine
from services.domain.self_reports.model import NoticeKind, NoticeRequest
from services.domain.vocabulary import Outcome
from services.messaging.sms import LogSmsSender
from services.settings import Settings
from services.workers.self_reports.activities import SelfReportActivities
from tests.applicants import new_phone, sms_log


async def test_a_repeated_notice_is_sent_once(settings: Settings, temporal: WorkflowEnvironment) -> None:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    activities = SelfReportActivities(engine, temporal.client, "unused", LogSmsSender())
    phone, application_id = new_phone(), uuid.uuid4().hex
    decided = NoticeRequest(
        application_id=application_id,
        kind=NoticeKind.case_decided,
        phone=phone,
        submitted_at=datetime(2026, 11, 28, 20, tzinfo=UTC),
        outcome=Outcome.monitoring_target,
    )
    try:
        with sms_log() as sms:
            for _ in range(3):
                await ActivityEnvironment().run(activities.send_self_report_notice, decided)
            rejected = decided.model_copy(
                update={
                    "kind": NoticeKind.rejected,
                    "outcome": None,
                    "reason": "户主身份证610824199001011234与登记不符",
                }
            )
            await ActivityEnvironment().run(activities.send_self_report_notice, rejected)
    finally:
        await engine.dispose()
    texts = sms.texts_to(phone)
    assert len(texts) == 2, texts
    assert texts[0] == (
        "【防返贫监测】您2026年11月29日申报的识别结果：您家已纳入防返贫监测对象，镇村将安排帮扶责任人，"
        "制定帮扶措施。详情请在“一键申报”小程序中查看。"
    )
    assert "610824********1234" in texts[1] and "610824199001011234" not in texts[1]
