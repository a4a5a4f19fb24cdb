#!/usr/bin/env bash
# Brings the tracked public surface (PublicAPI.Shipped.txt / PublicAPI.Unshipped.txt) of the packages up to date.
#
# Every packable project under src/ declares its public API in two files beside its .csproj; the build fails with
# RS0016 (a public symbol missing from the files) or RS0017 (a declared symbol that no longer exists). After a change
# to the public surface, or after merging branches that each added some, run:
#
#   eng/public-api.sh                      # every packable project under src/
#   eng/public-api.sh src/Router.Redis     # only the named project folders (or .csproj files)
#   eng/public-api.sh --ship               # at a release: move every Unshipped entry into Shipped
#
# It creates the two files where a packable project has none, then applies the analyzer's own fixes with
# `dotnet format analyzers --diagnostics RS0016 RS0017`: new symbols are added to PublicAPI.Unshipped.txt, and
# symbols that are gone are removed from it (or, for shipped ones, marked *REMOVED* there). Review the diff: it is
# the change to the public surface.
set -euo pipefail
cd "$(dirname "$0")/.."

header='#nullable enable'

packable_projects() {
  local proj
  for proj in src/*/*.csproj; do
    if grep -q '<IsPackable>true</IsPackable>' "$proj"; then echo "$proj"; fi
  done
}

ensure_files() {
  local dir=$1 file
  for file in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [[ -f "$dir/$file" ]] || printf '%s\n' "$header" > "$dir/$file"
  done
}

ship() {
  local proj dir shipped unshipped
  for proj in $(packable_projects); do
    dir=$(dirname "$proj")
    ensure_files "$dir"
    shipped="$dir/PublicAPI.Shipped.txt"
    unshipped="$dir/PublicAPI.Unshipped.txt"
    # Removed entries drop out of Shipped; added ones join it; Unshipped starts empty again.
    { grep -v '^#' "$shipped" | grep -vxF -f <(grep '^\*REMOVED\*' "$unshipped" | sed 's/^\*REMOVED\*//') || true
      grep -v -e '^#' -e '^\*REMOVED\*' "$unshipped" || true
    } | sed '/^$/d' | LC_ALL=C sort -u > "$shipped.tmp"
    { printf '%s\n' "$header"; cat "$shipped.tmp"; } > "$shipped"
    rm "$shipped.tmp"
    printf '%s\n' "$header" > "$unshipped"
    echo "shipped: $dir"
  done
}

if [[ "${1:-}" == "--ship" ]]; then ship; exit 0; fi

if (( $# > 0 )); then
  projects=()
  for arg in "$@"; do
    if [[ -d "$arg" ]]; then projects+=("$(ls "$arg"/*.csproj | head -n 1)"); else projects+=("$arg"); fi
  done
else
  mapfile -t projects < <(packable_projects)
fi

for proj in "${projects[@]}"; do
  dir=$(dirname "$proj")
  ensure_files "$dir"
  echo "updating $dir/PublicAPI.Unshipped.txt"
  dotnet restore "$proj" -v q >/dev/null
  dotnet format analyzers "$proj" --no-restore --diagnostics RS0016 RS0017 --severity warn -v q
done
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt' || true
