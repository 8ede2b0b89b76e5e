#!/usr/bin/env bash
# Make the benchmark inputs: one work tree per repository under $OUT (default /tmp/repos),
# each a fresh one-commit git repository (mllint refuses a directory that is not one, and
# steward reads git for history facts).
#
# It fetches nothing. Give it bare git directories that are already on this machine
# (e.g. mirrors under /work/.mirror/OWNER+NAME/repo), optionally as NAME=GITDIR:
#
#   benchmarks/repos.sh /work/.mirror/karpathy+nanoGPT/repo \
#                       kubeflow-pipelines=/work/.mirror/kubeflow+pipelines/repo
#
# Without NAME the tree is named after the mirror's directory (OWNER+NAME -> NAME).
# The mirror is only read (git archive HEAD); nothing is written into it.
# The trees are scratch inputs: never commit them, or anything from them, here.
set -euo pipefail

OUT=${OUT:-/tmp/repos}

if [ "$#" -eq 0 ]; then
  echo "usage: OUT=/tmp/repos $0 [NAME=]GITDIR ..." >&2
  exit 2
fi

mkdir -p "$OUT"
for arg in "$@"; do
  case "$arg" in
    *=*) name=${arg%%=*}; gitdir=${arg#*=} ;;
    *)
      gitdir=$arg
      base=$(basename "$gitdir")
      [ "$base" = repo ] && base=$(basename "$(dirname "$gitdir")")
      name=${base#*+}
      name=${name%.git}
      ;;
  esac
  dest="$OUT/$name"
  if [ -e "$dest" ]; then
    echo "skip $name: $dest exists (remove it to rebuild)" >&2
    continue
  fi
  mkdir -p "$dest"
  git --git-dir="$gitdir" archive HEAD | tar -x -C "$dest"
  (
    cd "$dest"
    git init -q
    git add -A
    git -c user.name=x -c user.email=x@x -c commit.gpgsign=false commit -qm snapshot
  )
  printf '%s\t%s files\t(from %s @ %s)\n' "$name" \
    "$(git -C "$dest" ls-files | wc -l)" "$gitdir" \
    "$(git --git-dir="$gitdir" rev-parse --short HEAD)"
done
