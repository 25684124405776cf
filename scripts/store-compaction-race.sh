#!/usr/bin/env bash
# Races `store build --compact` against learning processes, as docs/ngram-store.md reports: in
# each trial two NGramStoreTestHelper learners (open the store, learn 500 tokens at a random
# moment, exit — what `decograph run` with store.learn does) run while `store build --compact`
# adds 4 tokens. Every committed token must be in the store at the end.
#   scripts/store-compaction-race.sh [TRIALS] [BUILD_DIR]     (after `swift build --build-tests`)
set -euo pipefail
trials=${1:-18}
bin=$(cd "${2:-.build/debug}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for _ in $(seq 200); do echo "5 6 7 8 9 10"; done > base.ids
echo "1 2 3 4" > more.ids
tokens() { "$bin/decograph" store stats s.lmdb | awk '/^tokens learned:/ { print $3 }'; }
intact=0 lost=0 compacted=0 refused=0
for t in $(seq "$trials"); do
  rm -f s.lmdb*
  "$bin/decograph" store build --fingerprint helper-fingerprint --out s.lmdb base.ids > /dev/null
  for k in 1 2; do
    ( sleep "0.$((RANDOM % 5))"; (sleep "0.$((RANDOM % 5))"; echo go) | "$bin/NGramStoreTestHelper" learn s.lmdb 500 > "learner$k.out" 2>&1 || true ) &
  done
  sleep "0.$((RANDOM % 5))"
  if "$bin/decograph" store build --fingerprint helper-fingerprint --out s.lmdb --compact more.ids > /dev/null 2> build.err
  then compacted=$((compacted + 1)); else refused=$((refused + 1)); fi
  wait
  committed=$(cat learner1.out learner2.out | grep -c '^committed' || true)
  expected=$((1200 + 4 + 500 * committed))
  got=$(tokens)
  if [ "$got" = "$expected" ]; then intact=$((intact + 1)); else lost=$((lost + 1)); echo "trial $t: $expected tokens committed, $got in the store"; fi
done
echo "$trials trials: $intact intact, $lost lost tokens; compaction done $compacted, refused $refused"
