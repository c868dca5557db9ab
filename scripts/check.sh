#!/usr/bin/env bash
# Repository checks run by `make test` (exit 1 on any failure, each named):
#  1. every spec citation reads "docs/SPEC.md §N" or "§N.M" (a bare "SPEC §N" fails) and names a
#     section docs/SPEC.md has, and nothing points at the old spec outside the
#     repository (shared/SPEC.md);
#  2. no Markdown link leaves the repository (an absolute path, ../ above the
#     root, file://) or points at a file that does not exist;
#  3. every file posenc writes goes through core/fsutil.c's one atomic,
#     durable writer: outside core/fsutil.c, the library, the program and the
#     benchmark (cli/, run/, model/, data/, bench/) open nothing for writing and rename nothing,
#     except on a line marked "writer-exempt:" with the reason;
#  4. the rooms are layered: core/ < model/ < data/ < run/ < study/ < cli/; a
#     file includes headers of its own room or a lower one only (bench/, tests/
#     and fuzz/ stand outside and may include any), and no two modules (a .c,
#     its .h and an X_internal.h) include each other, directly or through others;
#  5. no tracker numbers (the word "issue" followed by a number) in code, tests, docs or the
#     Makefile: say what the thing is instead;
#  6. the flags posenc requires survive a user's CFLAGS: `make -n CFLAGS=-O0`
#     still compiles with -ffp-contract=off, and core/ and model/ with the
#     kernels' flags.
# Uses git ls-files in a checkout, else find. Perl (in every Debian base system).
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard | while read -r f; do [ -f "$f" ] && echo "$f"; done)
else
  mapfile -t files < <(find . -type f -not -path './.git/*' -not -path './build*' -not -path './runs/*' \
                         -not -path './tests/tmp/*' | sed 's|^\./||')
fi
text_files=()
for f in "${files[@]}"; do
  case "$f" in *.png|*.svg|*.safetensors|*.o|*.a|posenc) continue ;; esac
  [ "$f" = scripts/check.sh ] && continue # the checker names what it looks for
  grep -Iq . "$f" 2>/dev/null && text_files+=("$f")
done

# 1. spec citations
[ -f docs/SPEC.md ] || { echo "check: docs/SPEC.md is missing" >&2; exit 1; }
sections=$(perl -ne 'print "$1\n" if /^#{2,}\s+(\d+(?:\.\d+)*)\.?\s/' docs/SPEC.md)
out=$(perl -e '
  my %have = map { $_ => 1 } split /\n/, shift;
  my ($bad, $bare) = (0, 0);
  for my $f (@ARGV) {
    open my $fh, "<", $f or next;
    while (my $l = <$fh>) {
      if ($l =~ m{shared/SPEC}) { print "$f:$.: cites the spec outside the repository (use docs/SPEC.md)\n"; $bad++ }
      while ($l =~ m{((?:docs/)?SPEC(?:\.md)?)\s*§\s*(\d+(?:\.\d+)*)}g) {
        my ($how, $n) = ($1, $2);
        if (!$have{$n}) { print "$f:$.: cites $how §$n, but docs/SPEC.md has no section $n\n"; $bad++ }
        elsif ($how ne "docs/SPEC.md") { print "$f:$.: \"$how §$n\" should read \"docs/SPEC.md §$n\"\n"; $bad++ }
      }
    }
  }
  exit($bad ? 1 : 0);
' "$sections" "${text_files[@]}")
if [ $? -ne 0 ]; then echo "$out" >&2; echo "check: FAILED: spec citations" >&2; fail=1; fi

# 2. Markdown links
md=()
for f in "${text_files[@]}"; do case "$f" in *.md) md+=("$f") ;; esac; done
out=$(perl -MCwd=abs_path -MFile::Basename=dirname -MFile::Spec -e '
  my $root = abs_path(".");
  my $bad = 0;
  for my $f (@ARGV) {
    open my $fh, "<", $f or next;
    my $in_code = 0;
    while (my $l = <$fh>) {
      $in_code = !$in_code if $l =~ /^\s*```/;
      next if $in_code;
      my @t;
      push @t, $1 while $l =~ /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
      push @t, $1 if $l =~ /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/;
      push @t, $1 while $l =~ /<(?:a|img)\s[^>]*?(?:href|src)="([^"]+)"/g;
      for my $t (@t) {
        next if $t =~ m{^(?:https?|mailto):} || $t =~ /^#/;
        if ($t =~ m{^(?:file:|/)}) { print "$f:$.: link $t leaves the repository\n"; $bad++; next }
        (my $p = $t) =~ s/[#?].*//;
        my $full = File::Spec->rel2abs($p, dirname(abs_path($f)));
        my @parts;
        for my $c (split m{/}, $full) { if ($c eq "..") { pop @parts } elsif ($c ne "." && $c ne "") { push @parts, $c } }
        my $norm = "/" . join("/", @parts);
        if (index("$norm/", "$root/") != 0) { print "$f:$.: link $t leaves the repository\n"; $bad++; next }
        if (!-e $norm) { print "$f:$.: link $t: no such file in the repository\n"; $bad++ }
      }
    }
  }
  exit($bad ? 1 : 0);
' "${md[@]}")
if [ $? -ne 0 ]; then echo "$out" >&2; echo "check: FAILED: Markdown links" >&2; fail=1; fi

# 3. one writer
src=()
for f in "${text_files[@]}"; do
  case "$f" in cli/*.c|core/*.c|run/*.c|study/*.c|model/*.c|data/*.c|bench/*.c) [ "$f" = core/fsutil.c ] || src+=("$f") ;; esac
done
out=$(perl -e '
  my $bad = 0;
  for my $f (@ARGV) {
    open my $fh, "<", $f or next;
    while (my $l = <$fh>) {
      next if $l =~ /writer-exempt:/;
      if ($l =~ /\b(?:rename|renameat2?|creat|file_create_new)\s*\(|\bO_(?:WRONLY|RDWR|CREAT|TRUNC|APPEND)\b|\b(?:fopen|fdopen|freopen)\s*\([^;]*"[wa+]/) {
        print "$f:$.: writes or renames a file outside core/fsutil.c: $l"; $bad++;
      }
    }
  }
  exit($bad ? 1 : 0);
' "${src[@]}")
if [ $? -ne 0 ]; then
  echo "$out" >&2
  echo "check: FAILED: use file_write_atomic / file_write_atomic_parts / file_commit_durable (core/fsutil.h)," \
       "or mark the line \"writer-exempt: <why>\"" >&2
  fail=1
fi

# 4. layers and cycles
layered=()
for f in "${text_files[@]}"; do
  case "$f" in core/*.[ch]|model/*.[ch]|data/*.[ch]|run/*.[ch]|study/*.[ch]|cli/*.[ch]) layered+=("$f") ;; esac
done
out=$(perl -e '
  my @rooms = qw(core model data run study cli);
  my %rank; @rank{@rooms} = (0 .. $#rooms);
  my ($bad, %edge) = (0);
  for my $f (@ARGV) {
    my ($room) = $f =~ m{^([a-z]+)/};
    (my $mod = $f) =~ s/(_internal)?\.[ch]$//; # X_internal.h belongs to module X (a header for its own files)
    open my $fh, "<", $f or next;
    while (my $l = <$fh>) {
      next unless $l =~ /^\s*#\s*include\s*"([a-z]+)\/([^"]+)\.h"/;
      my ($to, $tomod) = ($1, "$1/$2");
      $tomod =~ s/_internal$//;
      next unless exists $rank{$to};
      if ($rank{$to} > $rank{$room}) {
        print "$f:$.: $room/ includes $to/$2.h, a higher room (order: @rooms)\n"; $bad++;
      }
      $edge{$mod}{$tomod} = $. if $tomod ne $mod;
    }
  }
  # cycles between modules: depth-first search, reporting each cycle once
  my (%state, @stack, %seen);
  my $visit; $visit = sub {
    my $m = shift; $state{$m} = 1; push @stack, $m;
    for my $n (sort keys %{ $edge{$m} || {} }) {
      if (($state{$n} // 0) == 1) {
        my @c = @stack[(grep { $stack[$_] eq $n } 0 .. $#stack)[0] .. $#stack];
        my $key = join " ", sort @c;
        print "include cycle: ", join(" -> ", @c, $n), "\n" unless $seen{$key}++; $bad++;
      } elsif (!$state{$n}) { $visit->($n) }
    }
    pop @stack; $state{$m} = 2;
  };
  $visit->($_) for sort keys %edge;
  exit($bad ? 1 : 0);
' "${layered[@]}")
if [ $? -ne 0 ]; then echo "$out" >&2; echo "check: FAILED: rooms and layers (see the list above)" >&2; fail=1; fi

# 5. tracker numbers
out=$(perl -ne 'print "$ARGV:$.: $_" if /\bissues?\s+#?\d+/i; close ARGV if eof' "${text_files[@]}")
if [ -n "$out" ]; then
  echo "$out" >&2
  echo "check: FAILED: tracker references (say what the thing is, not its issue number)" >&2
  fail=1
fi

# 6. required compiler flags (a dry run of the default build, whatever SAN or make flags
#    the caller runs under: nothing is built)
if command -v make >/dev/null && command -v pkg-config >/dev/null; then
  for probe in core/rng.c:build/core/rng.o cli/args.c:build/cli/args.o; do
    src=${probe%%:*} obj=${probe#*:}
    line=$(env -u SAN -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -n -B CFLAGS=-O0 "$obj" 2>/dev/null | grep -F -- "-c $src")
    need="-ffp-contract=off"
    case "$src" in core/*|model/*) need="-ffp-contract=off -O3 -fno-trapping-math" ;; esac
    for f in $need; do
      case " $line " in
        *" $f "*) ;;
        *) echo "check: make CFLAGS=-O0 compiles $src without $f: $line" >&2; fail=1 ;;
      esac
    done
  done
fi

[ $fail -eq 0 ] && echo "check: spec citations, Markdown links, the one writer, rooms and layers, tracker numbers, required flags: ok"
exit $fail
