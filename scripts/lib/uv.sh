# Sourced by the scripts: puts the uv command in UV, installing uv from PyPI if it is missing.
# Under `uv run` (the tests call the scripts that way) `python3` is the project's venv, which has
# neither pip nor uv; uv then names itself in the UV variable.
if [ -n "${UV:-}" ] && [ -x "${UV}" ]; then
  UV=("${UV}")
elif command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv
  UV=(python3 -m uv)
fi
