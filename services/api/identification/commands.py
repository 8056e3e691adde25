"""Starting cases and acting on their steps, through Temporal.

The API checks who is asking (role, area) and the payload's shape; the workflow
decides whether the case's current step allows the action. Refusals from the
workflow come back as ApplicationErrors, mapped to HTTP answers by `workflow_updates`.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from services.api.errors import ApiError, conflict, workflow_unavailable
from services.api.identification.service import CaseRef
from services.api.lone_statements import session_connection
from services.api.workflow_updates import actor_of, run_update
from services.db.tables import Account, CaseRecord
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.identification.state import CaseStart, CaseState
from services.domain.policy import Policy
from services.domain.update_inputs import ItemStepInput, StepInput
from services.domain.vocabulary import Action, Channel
from services.identification_starts import CaseAlreadyOpen, CaseUnrecordable, open_case
from services.workflows.identification import IdentificationWorkflow
from services.workflows.refusals import UNRECORDABLE_MESSAGE

_KEYED_CASE_IDS = uuid.UUID("8d0f3c52-6a1e-4b7e-9f25-3c4d8e1a7b60")

# The workflow Update behind each action, as the table names it.
ACTION_UPDATES = {spec.action: getattr(IdentificationWorkflow, spec.update_name) for spec in IDENTIFICATION.actions}
_CASE_STATE = select(col(CaseRecord.state)).where(col(CaseRecord.case_id) == bindparam("case_id"))


def start_key(account: Account, idempotency_key: str | None) -> str | None:
    """What a case start sent with an `Idempotency-Key` is known by, in its workflow's memo."""
    return f"api:{account.username}:{idempotency_key}" if idempotency_key is not None else None


def _case_id(key: str | None) -> str:
    """A keyed start's case id is the key's, so every attempt names the same case."""
    return uuid.uuid5(_KEYED_CASE_IDS, key).hex if key is not None else uuid.uuid4().hex


async def case_opened_with(session: AsyncSession, key: str | None) -> CaseRecord | None:
    """The case an earlier attempt with this start key opened, if it is recorded (it may have moved
    on, or closed, since). Ends the session's transaction: no connection is held afterwards."""
    record = await session.get(CaseRecord, _case_id(key)) if key is not None else None
    await session.commit()
    return record


async def start_case(
    client: Client,
    task_queue: str,
    account: Account,
    household_code: str,
    village_code: str,
    channel: Channel,
    lead_note: str,
    policy: Policy,
    formerly_poor: bool,
    key: str | None = None,
) -> CaseState:
    """Opens the household's identification case; 409 naming the open case if there is one (and
    it was not opened with `key`, see `start_key`); 422 `unrecordable` if PostgreSQL refused it."""
    start = CaseStart(
        case_id=_case_id(key),
        household_code=household_code,
        village_code=village_code,
        channel=channel,
        lead_note=lead_note,
        policy=policy,
        opened_by=actor_of(account),
        formerly_poor=formerly_poor,
    )
    try:
        return await open_case(client, task_queue, start, key)
    except CaseAlreadyOpen as already:
        raise conflict(
            "case_already_open", "该农户已有正在办理的识别案件，新线索请并入该案件", case_id=already.case_id
        ) from None
    except CaseUnrecordable:
        raise ApiError(422, "unrecordable", UNRECORDABLE_MESSAGE) from None
    except RPCError as error:
        raise workflow_unavailable() from error


async def act_on_case(
    client: Client,
    session: AsyncSession,
    record: CaseRef,
    action: Action,
    account: Account,
    form: BaseModel,
    item: int | None,
    idempotency_key: str | None,
) -> CaseState:
    """Takes the action through its Update, with one input: who acts, the form, and the numbered
    item (an objection) the action names, if any. `session` holds no connection meanwhile (it was
    committed before, see `answer_once`); the case is read on it afterwards."""
    handle = client.get_workflow_handle(record.workflow_id, run_id=record.run_id)
    update_id = f"{action}:{idempotency_key}" if idempotency_key else f"{action}:{uuid.uuid4().hex}"
    actor = actor_of(account)
    given = StepInput(actor=actor, form=form) if item is None else ItemStepInput(actor=actor, item=item, form=form)
    await run_update(handle, ACTION_UPDATES[action], [given], update_id, _closed())
    return await _recorded_case(session, record.case_id)


async def _recorded_case(session: AsyncSession, case_id: str) -> CaseState:
    """The case as the read model has it: the Update answers once its event is written there (its
    answer names that event rather than carrying the whole state through the workflow's history).
    Read on the session's connection, which then keeps the idempotency record's answer too."""
    state = await (await session_connection(session)).scalar(_CASE_STATE, {"case_id": case_id})
    return CaseState.model_validate(state)


def _closed() -> ApiError:
    return conflict("case_closed", "该案件已办结，不能再办理")
