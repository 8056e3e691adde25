"""Runs the department simulator:

    uv run python -m services.department_simulator --port 8300 [--secret real_estate=SECRET ...] [--demo]

`--demo` plays every department kind with the demo secrets that `services.demo_data`
registers for 靖边县, so the dev stack's cases get their cross-check answers.
"""

from __future__ import annotations

import argparse

import uvicorn

from services.department_simulator.app import create_simulator_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="DEPARTMENT=SECRET",
        help="a department to play and its shared secret (repeatable)",
    )
    parser.add_argument("--demo", action="store_true", help="play every department with the demo secrets")
    args = parser.parse_args()
    secrets: dict[str, str] = {}
    if args.demo:
        from services.demo_data import DEMO_DEPARTMENT_SECRETS

        secrets |= DEMO_DEPARTMENT_SECRETS
    for pair in args.secret:
        name, _, secret = pair.partition("=")
        if not secret:
            parser.error(f"--secret {pair!r}: expected DEPARTMENT=SECRET")
        secrets[name] = secret
    uvicorn.run(create_simulator_app(secrets), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
