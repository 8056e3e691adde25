"""The household registry: ID numbers checked, personal data masked, areas respected."""

from __future__ import annotations

from services.demo_case import ADMIN, COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from tests.conftest import new_household_body


async def test_register_and_read_a_household(driver: CaseDriver) -> None:
    body = new_household_body(size=3)
    created = await driver.post(VILLAGE_CADRE, "/api/v1/households", body)
    assert created.status_code == 201, created.text
    household = created.json()
    assert household["code"].startswith(body["village_code"]) and len(household["code"]) == 18
    assert household["head_name"] == body["members"][0]["name"]
    assert household["status"] == "not_monitored" and household["status_label"] == "非监测对象"
    assert [m["id_number"] for m in household["members"]] == [m["id_number"] for m in body["members"]]

    for reader in (ADMIN,):
        seen = (await driver.get(reader, f"/api/v1/households/{household['code']}")).json()
        first = seen["members"][0]["id_number"]
        assert first == body["members"][0]["id_number"][:6] + "********" + body["members"][0]["id_number"][-4:]
        assert seen["phone"] == "138****8000"

    listed = (await driver.get(TOWNSHIP_APPROVER, "/api/v1/households", limit=200)).json()
    assert "members" not in listed["items"][0] and all("*" in (h["phone"] or "*") for h in listed["items"])


async def test_id_number_check_digit_is_verified(driver: CaseDriver) -> None:
    body = new_household_body()
    good = body["members"][1]["id_number"]
    body["members"][1]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")
    answer = await driver.post(VILLAGE_CADRE, "/api/v1/households", body)
    assert answer.status_code == 422
    errors = answer.json()["detail"]["errors"]
    assert errors == [{"field": "members[1].id_number", "message": "身份证号校验位不正确，请核对后重新填写"}]


async def test_an_id_number_belongs_to_one_household(driver: CaseDriver) -> None:
    body = new_household_body()
    assert (await driver.post(VILLAGE_CADRE, "/api/v1/households", body)).status_code == 201
    again = await driver.post(VILLAGE_CADRE, "/api/v1/households", body)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "id_number_registered"


async def test_registering_outside_ones_area_is_refused(driver: CaseDriver) -> None:
    answer = await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body("610824100202"))
    assert answer.status_code == 403
    answer = await driver.post(COUNTY_OFFICER, "/api/v1/households", new_household_body())
    assert answer.status_code == 403, "county officers do not register households"


async def test_reading_outside_ones_area_is_404(driver: CaseDriver) -> None:
    code = (await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]
    assert (await driver.get("huochangwan.cadre", f"/api/v1/households/{code}")).status_code == 404
    assert (await driver.get("qingyangcha.approver", f"/api/v1/households/{code}")).status_code == 404
    listed = await driver.get("huochangwan.cadre", "/api/v1/households", area="610824100201")
    assert listed.status_code == 403
