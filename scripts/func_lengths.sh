#!/usr/bin/env bash
# List the C functions of posenc's sources longer than N lines (default 120),
# longest first: "lines  file:line  name". A function is counted from the
# first line of its header (at column 0) to its closing brace at column 0
# (the house style). Usage: scripts/func_lengths.sh [N] [FILES...]; without
# files, every .c file outside model/ and tests/ (the numerical kernels keep their long
# forward/backward passes; a test case is a list of checks).
set -euo pipefail
cd "$(dirname "$0")/.."
max=${1:-120}
shift || true
if [ $# -eq 0 ]; then
  set -- $(git ls-files '*.c' | grep -v -e '^model/' -e '^tests/')
fi
perl -e '
  my $max = shift;
  my @out;
  for my $f (@ARGV) {
    open my $fh, "<", $f or next;
    my ($name, $start, $cand, $cstart) = (undef, 0, undef, 0);
    while (my $l = <$fh>) {
      if (!defined $name) {
        # a header starts at column 0 with a name and "(", and may continue on indented lines
        if ($l =~ /^(?!typedef|struct|enum|union|static const|const|extern|#)[A-Za-z_][^;=]*?\b([A-Za-z_]\w*)\s*\(/) {
          ($cand, $cstart) = ($1, $.);
        } elsif ($l =~ /^\S/ || $l =~ /;\s*$/) {
          undef $cand;
        }
        if (defined $cand && $l =~ /\{\s*$/) { ($name, $start) = ($cand, $cstart); undef $cand; }
      } elsif ($l =~ /^\}/) {
        my $len = $. - $start + 1;
        push @out, [$len, "$f:$start", $name] if $len > $max;
        undef $name;
      }
    }
  }
  printf "%5d  %-36s %s\n", @$_ for sort { $b->[0] <=> $a->[0] } @out;
' "$max" "$@"
