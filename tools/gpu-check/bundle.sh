#!/usr/bin/env bash
# Builds the self-contained GPU check bundle: bundle.sh [OUT_DIR] [--allow-no-ptx]  (default artifacts/gpu-bundle)
#
# OUT_DIR/app.tar.gz holds the console (c2f) and the CUDA and ILGPU test runners, published together for linux-x64
# with one .NET runtime between them, the PTX that nvcc built here embedded, ScottPlot's linux-x64 natives only and
# the PyTorch peer script; OUT_DIR/run.sh runs the check (see run.sh). The bundle must stay within the 60 MiB a
# GPU machine accepts beside the working tree. Without nvcc the bundle would run nothing on a GPU, so the script
# refuses to build one unless --allow-no-ptx (for the emulation check on machines without nvcc).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="" allow_no_ptx=0
for arg in "$@"; do
  case $arg in
    --allow-no-ptx) allow_no_ptx=1 ;;
    -*) echo "bundle.sh: unknown option $arg" >&2; exit 2 ;;
    *) out=$arg ;;
  esac
done
out=${out:-$repo/artifacts/gpu-bundle}
limit_mib=60
rid=linux-x64

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
app=$staging/app
projects=(tools/Mistral.C2F.Cli tests/Mistral.C2F.Engine.Cuda.Tests tests/Mistral.C2F.Engine.Ilgpu.Tests)
for project in "${projects[@]}"; do
  echo "==> publish $project ($rid, self-contained)"
  # One output folder: the three apps share the runtime and every library, which the central package versions
  # make identical. No trimming: the test runners and ILGPU reflect over code a trimmer cannot see.
  dotnet publish "$repo/$project" -c Release -r "$rid" --self-contained -o "$app" -nologo -v quiet \
    -p:SatelliteResourceLanguages=en -p:GenerateDocumentationFile=false
done

# The test SDK's code-coverage engine (every OS) is never used by the runners' command lines, nor are its
# translated messages.
rm -rf "$app/CodeCoverage" "$app"/{alpine,arm64,macos,ubuntu,x64,x86}
find "$app" -mindepth 2 -name '*.resources.dll' -delete
find "$app" -mindepth 1 -type d -empty -delete

ptx_modules=$(grep -c -a '\.target sm_90' "$app/Mistral.C2F.Engine.Cuda.dll" || true)
if ((ptx_modules == 0)); then
  if ((allow_no_ptx)); then echo "bundle.sh: no PTX embedded (no nvcc here): the bundle can only emulate" >&2
  else echo "bundle.sh: no PTX embedded in Mistral.C2F.Engine.Cuda.dll: install nvcc (see kernels/README.md) or pass --allow-no-ptx" >&2; exit 1
  fi
fi

mkdir -p "$out"
rm -rf "$out/app" "$out/app.tar.gz"
tar -czf "$out/app.tar.gz" -C "$staging" app
install -m 755 "$repo/tools/gpu-check/run.sh" "$out/run.sh"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | head -c 1)
nvcc_version=$( (command -v nvcc >/dev/null && nvcc --version | grep -o 'release [0-9.]*') || echo "no nvcc")
bytes=$(stat -c %s "$out/app.tar.gz")
{
  echo "commit $commit${dirty:+ (uncommitted changes)}, built $(date -u '+%Y-%m-%d %H:%M UTC'), $rid, PTX sm_80/sm_90 by nvcc ${nvcc_version#release } ($ptx_modules modules)"
  echo "app.tar.gz $bytes bytes, $(du -sm "$app" | cut -f1) MiB unpacked"
} >"$out/MANIFEST"
cat "$out/MANIFEST"
size_mib=$(( ($(du -sb "$out" | cut -f1) + 1048575) / 1048576 ))
if ((size_mib > limit_mib)); then
  echo "bundle.sh: $out is $size_mib MiB, over the $limit_mib MiB a GPU machine takes" >&2; exit 1
fi
echo "bundle: $out ($size_mib MiB); take the folder to a GPU machine and run: bash ${out#"$repo"/}/run.sh OUT_DIR"
