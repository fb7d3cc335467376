#!/usr/bin/env pwsh
# Build entry point. On a fresh machine: `dotnet tool restore && dotnet pwsh build.ps1 <verb>`.
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'kernels', 'test', 'bench', 'demo', 'clean', 'gpu-bundle', 'gpu-check')]
    [string] $Verb = 'build',

    # For `test`: a dotnet test filter, e.g. 'Backend=cpu'.
    [string] $Filter = '',

    # For `bench`: a BenchmarkDotNet filter, e.g. '*Gemm*'.
    [string] $Benchmarks = '*'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$solution = 'Mistral.C2F.Engine.sln'
$cli = 'tools/Mistral.C2F.Cli'

function Invoke-Step([string] $title, [scriptblock] $step) {
    Write-Host "==> $title" -ForegroundColor Cyan
    & $step
    if ($LASTEXITCODE -ne 0) { throw "$title failed with exit code $LASTEXITCODE" }
}

# The GPU check is a bash script so that it runs where there is no PowerShell or .NET: tools/gpu-check/bundle.sh
# publishes the console and the GPU tests self-contained with the PTX, and the bundle's run.sh runs every stage.
function Invoke-GpuBundle { Invoke-Step 'GPU check bundle (artifacts/gpu-bundle)' { bash tools/gpu-check/bundle.sh artifacts/gpu-bundle } }

# The bundle run here, on this machine's GPU; the report lands in docs/perf/gpu-check-<card>.md.
function Invoke-GpuCheck {
    Invoke-GpuBundle
    $work = 'runs/gpu-check'
    bash artifacts/gpu-bundle/run.sh $work
    $failed = $LASTEXITCODE
    $card = (Get-Content "$work/results.json" -Raw | ConvertFrom-Json).card
    $slug = ($card.ToLowerInvariant() -replace '[^a-z0-9]+', '-').Trim('-')
    Copy-Item "$work/report.md" "docs/perf/gpu-check-$slug.md"
    Write-Host "==> report: docs/perf/gpu-check-$slug.md" -ForegroundColor Cyan
    if ($failed -ne 0) { throw "gpu-check: a stage failed, timed out or did not run (see $work/report.md)" }
}

switch ($Verb) {
    'build' { Invoke-Step 'build (Release)' { dotnet build $solution -c Release } }
    # The CUDA kernels alone: PTX for sm_80/sm_90 (where nvcc exists) and the CPU emulator library (where g++ or clang++ does).
    'kernels' { Invoke-Step 'kernels (PTX + emulator)' { dotnet build src/Mistral.C2F.Engine.Cuda -c Release } }
    'test' {
        $arguments = @('test', $solution, '-c', 'Release')
        if ($Filter) { $arguments += @('--filter', $Filter) }
        Invoke-Step 'test' { dotnet @arguments }
    }
    'bench' {
        Invoke-Step 'benchmarks' { dotnet run -c Release --project benchmarks/Mistral.C2F.Benchmarks -- --filter $Benchmarks }
    }
    'demo' { Invoke-Step 'demo' { dotnet run -c Release --project $cli -- demo --out runs/demo } }
    'gpu-bundle' { Invoke-GpuBundle }
    'gpu-check' { Invoke-GpuCheck }
    'clean' {
        Get-ChildItem -Recurse -Directory -Include bin, obj | Remove-Item -Recurse -Force
        Remove-Item -Recurse -Force BenchmarkDotNet.Artifacts, runs -ErrorAction SilentlyContinue
    }
}
