# Shared by scripts/run, scripts/test and scripts/bench: make ./.venv and install the project
# into it with the exact versions of a lock file, requirements/$1.txt (run, test or bench).
# The lock files are made by scripts/lock from pyproject.toml; regenerate them with it after
# changing a dependency. .venv is brought up to date whenever the lock file or pyproject.toml
# changes (a stamp in .venv keeps their checksum).
ensure_venv() {
    lock="requirements/$1.txt"
    python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Over Achiever needs Python 3.11 or newer (set PYTHON=/path/to/python3.x)" >&2
        exit 1
    fi
    stamp=".venv/.installed-$1"
    want=$(cat "$lock" pyproject.toml | cksum)
    if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        [ -x .venv/bin/python ] || "$python" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -r "$lock"
        # The project itself, without resolving anything: the lock has every dependency.
        .venv/bin/python -m pip install --quiet --no-deps -e .
        # A dependency of pyproject.toml that the lock lacks, or pins at a version it excludes,
        # fails here: run scripts/lock. (pip check sees the dependencies, not the extras.)
        .venv/bin/python -m pip check >/dev/null || {
            .venv/bin/python -m pip check >&2
            echo "$lock does not satisfy pyproject.toml: run scripts/lock" >&2
            exit 1
        }
        echo "$want" >"$stamp"
    fi
}
