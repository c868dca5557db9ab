#!/usr/bin/env bash
# The text experiment's default corpus: the English fortune files of Debian's `fortunes`
# package (installed by `scripts/deps.sh text`), concatenated in byte order of their names
# into one UTF-8 file. ascii-art is left out (pictures drawn in characters, not language);
# the .dat indexes and .u8 links are not text files of their own.
#   scripts/text_corpus.sh [OUT]      (default build/fortunes.txt)
# Prints the file's size; posenc records its hash in each run (task.file_hash), so a run
# is never evaluated on another version of the package's files.
set -euo pipefail
out=${1:-build/fortunes.txt}
dir=/usr/share/games/fortunes
[ -d "$dir" ] || { echo "text_corpus: $dir is missing: install Debian's fortunes package (scripts/deps.sh text)" >&2; exit 1; }
mapfile -t files < <(cd "$dir" && LC_ALL=C ls | grep -v -e '\.dat$' -e '\.u8$' -e '^ascii-art$')
[ ${#files[@]} -gt 0 ] || { echo "text_corpus: no fortune files in $dir" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
  [ -f "$dir/$f" ] && [ ! -L "$dir/$f" ] || continue
  cat "$dir/$f"
done > "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "text_corpus: $out: ${#files[@]} files of $dir, $(wc -c < "$out") bytes" >&2
