"""The worker builds a payload converter for every workflow run: the pydantic type adapters are shared
by all of them, so a run does not build again what an earlier run built (services/temporal_client.py)."""

from __future__ import annotations

from services.domain.identification.forms import Lead
from services.domain.identification.state import Actor
from services.domain.update_inputs import StepInput
from services.domain.vocabulary import Channel
from services.temporal_client import SharedAdaptersPayloadConverter


def _adapters_built(converter: SharedAdaptersPayloadConverter) -> object:
    json_converter = converter.converters[b"json/plain"]
    return json_converter._type_adapter.cache_info()  # type: ignore[attr-defined]


def test_a_type_decoded_by_one_converter_is_not_built_again_by_the_next() -> None:
    first, second = SharedAdaptersPayloadConverter(), SharedAdaptersPayloadConverter()
    lead = Lead(channel=Channel.cadre_screening, note="走访发现")
    (payload,) = first.to_payloads([lead])

    assert first.from_payloads([payload], [Lead]) == [lead]
    built = _adapters_built(second).misses
    assert second.from_payloads([payload], [Lead]) == [lead]

    assert _adapters_built(second).misses == built
    assert _adapters_built(first) == _adapters_built(second)


def test_an_update_input_decodes_the_same_through_any_converter() -> None:
    """A step's input is a parametrised generic (`StepInput[Lead]`): one adapter serves every run."""
    actor = Actor(username="cadre", display_name="村干部", role=None, area_code="610824100201")
    act = StepInput[Lead](actor=actor, form=Lead(channel=Channel.cadre_screening, note="村民反映"))
    (payload,) = SharedAdaptersPayloadConverter().to_payloads([act])
    runs = [SharedAdaptersPayloadConverter() for _ in range(3)]

    decoded = [run.from_payloads([payload], [StepInput[Lead]])[0] for run in runs]

    assert decoded == [act, act, act]
    assert _adapters_built(runs[0]).hits >= 2  # the second and third run found the first one's adapter
