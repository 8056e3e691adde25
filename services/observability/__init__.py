"""What the API and the worker tell a county's IT staff about themselves: request ids and JSON
logs, Temporal headers that carry the request id into workflows and activities, the Temporal SDK's
Prometheus metrics and OpenTelemetry traces. The API's own parts are in services/api/operations/."""
