# Sourced by the scripts: puts the uv command in UV, installing uv from PyPI if it is missing.
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv
  UV=(python3 -m uv)
fi
