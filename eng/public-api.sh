#!/usr/bin/env bash
# Brings the tracked public surface (PublicAPI.Shipped.txt / PublicAPI.Unshipped.txt) of the packages up to date.
#
# Every packable project under src/ declares its public API in two files beside its .csproj
# (Microsoft.CodeAnalysis.PublicApiAnalyzers, wired in Directory.Build.props); the build fails with RS0016 (a public
# symbol missing from the files) or RS0017 (a declared symbol that no longer exists). After a change to the public
# surface, or after merging branches that each added some, run:
#
#   eng/public-api.sh                      # every packable project under src/
#   eng/public-api.sh src/Router.Redis     # only the named project folders (or .csproj files) and what they reference
#   eng/public-api.sh --ship               # at a release: move every Unshipped entry into Shipped
#
# It creates the two files where a packable project has none, builds the projects with RS0016/RS0017 as warnings
# (compiling them afresh, so no diagnostic is hidden by an up-to-date build) and applies what the build reports:
# each RS0016 symbol is added to PublicAPI.Unshipped.txt; an RS0017 line of PublicAPI.Unshipped.txt is deleted,
# and one of PublicAPI.Shipped.txt is marked removed (*REMOVED*line) in PublicAPI.Unshipped.txt. Review the diff:
# it is the change to the public surface. Then build as usual (RS0016/RS0017 are errors again).
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

# Rewrites an API file as its header line followed by its entries, sorted and without duplicates or blank lines.
normalize() {
  local file=$1
  { printf '%s\n' "$header"; grep -v '^#' "$file" | sed '/^$/d' | LC_ALL=C sort -u || true; } > "$file.tmp"
  mv "$file.tmp" "$file"
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
    } > "$shipped.tmp"
    mv "$shipped.tmp" "$shipped"
    normalize "$shipped"
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

# The build reports RS0016/RS0017 as warnings so that every project compiles and reports all of them at once.
relaxed='-p:WarningsNotAsErrors=NU1603%3BRS0016%3BRS0017'
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for proj in "${projects[@]}"; do ensure_files "$(dirname "$proj")"; done
for proj in "${projects[@]}"; do
  echo "building $proj"
  # --no-incremental: an up-to-date project would report nothing. References (also packable ones) build with it.
  dotnet build "$proj" --no-incremental -v q -nologo "$relaxed" >> "$log" 2>&1 || true
done

# "FILE(LINE,COL): warning RS00NN: Symbol 'API LINE' ... [PROJECT]"; each diagnostic is listed twice (and per build).
grep -E ': (warning|error) RS001[67]: ' "$log" | LC_ALL=C sort -u > "$log.rs" || true
if grep -qE ': error ' "$log"; then
  grep -E ': error ' "$log" | LC_ALL=C sort -u | grep -vE ': error RS001[67]: ' | head -n 20 >&2 || true
fi

# RS0017 in Unshipped: delete that line (highest line first, so earlier numbers stay valid).
sed -nE 's#^(.*PublicAPI\.Unshipped\.txt)\(([0-9]+),[0-9]+\): (warning|error) RS0017: .*#\1\t\2#p' "$log.rs" \
  | LC_ALL=C sort -u | sort -t$'\t' -k1,1 -k2,2nr | while IFS=$'\t' read -r file line; do
    sed -i "${line}d" "$file"
  done
# RS0017 in Shipped: keep the line there, declare its removal in Unshipped.
sed -nE 's#^(.*)PublicAPI\.Shipped\.txt\(([0-9]+),[0-9]+\): (warning|error) RS0017: .*#\1\t\2#p' "$log.rs" \
  | LC_ALL=C sort -u | while IFS=$'\t' read -r dir line; do
    printf '*REMOVED*%s\n' "$(sed -n "${line}p" "${dir}PublicAPI.Shipped.txt")" >> "${dir}PublicAPI.Unshipped.txt"
  done
# RS0016: the message quotes the API line; the project at the end says which files declare it.
sed -nE "s#^.*: (warning|error) RS0016: Symbol '(.*)' is not part of the declared public API.*\[(.*)\]\$#\3\t\2#p" "$log.rs" \
  | LC_ALL=C sort -u | while IFS=$'\t' read -r proj api; do
    printf '%s\n' "$api" >> "$(dirname "$proj")/PublicAPI.Unshipped.txt"
  done
rm -f "$log.rs"

for proj in $(packable_projects); do
  dir=$(dirname "$proj")
  [[ -f "$dir/PublicAPI.Unshipped.txt" ]] && normalize "$dir/PublicAPI.Unshipped.txt"
done
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt' || true
