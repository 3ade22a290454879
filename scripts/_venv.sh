# Shared by scripts/run and scripts/test: make ./.venv and install the project into it.
ensure_venv() {
    extras="$1"
    python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Over Achiever needs Python 3.11 or newer (set PYTHON=/path/to/python3.x)" >&2
        exit 1
    fi
    stamp=".venv/.installed$extras"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        [ -x .venv/bin/python ] || "$python" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -e ".$extras"
        touch "$stamp"
    fi
}
