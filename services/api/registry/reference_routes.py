"""Reference data: areas and the procedure policy."""

from __future__ import annotations

from fastapi import APIRouter, Query

from services.api.access import require_role
from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import invalid
from services.api.registry.policies import current_policy, publish_policy
from services.api.registry.schemas import AreaView
from services.api.registry.service import areas_under
from services.domain.policy import Policy, PolicyBody, publish_refusal
from services.domain.vocabulary import Role

router = APIRouter(prefix="/api/v1", tags=["reference 区划与政策"])


@router.get("/areas", summary="区划列表")
async def list_areas(
    session: SessionDep, _: CurrentAccount, parent: str | None = Query(default=None, max_length=12)
) -> list[AreaView]:
    return [AreaView.model_validate(a.model_dump()) for a in await areas_under(session, parent, "every")]


@router.get("/policies/current", summary="当前适用的政策参数")
async def get_current_policy(session: SessionDep, _: CurrentAccount) -> Policy:
    return await current_policy(session)


@router.post("/policies", status_code=201, summary="发布新版政策参数（只影响此后发起的案件）")
async def create_policy(body: PolicyBody, account: CurrentAccount, session: SessionDep, resources: Resources) -> Policy:
    """Refuses (422) a version whose steps do not fit its own limit, or one below the rules' floors
    (notice 5 days, 2 verifiers, a visit a month) unless the service runs with DEVELOPMENT_POLICIES."""
    require_role(account, Role.admin)
    refusal = publish_refusal(body, floors=not resources.settings.development_policies)
    if refusal is not None:
        raise invalid(refusal.field, refusal.message)
    policy = await publish_policy(session, body, account)
    await session.commit()
    return policy
