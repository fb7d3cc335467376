#!/usr/bin/env python3
"""PyTorch timings of the shapes the CUDA kernel benchmarks use, as the peer column of the GPU check (run.sh).

Reads the benchmark plan written by `c2f bench --mode kernels --plan-out FILE` (a JSON list of
{"name", "kind", "shape"}), times each PyTorch equivalent with CUDA events (median of single runs after
warm-up, the L2 cache flushed before each, as the engine's own timer does) and writes {"name": milliseconds}
as JSON. Kinds without a PyTorch equivalent are left out.
Optional shape keys: "dtype" (a torch dtype name, default bfloat16) and "backward" (time the gradient).
Run only where torch with CUDA is installed; the check script skips the peer column otherwise.
"""
import json
import statistics
import sys

import torch
import torch.nn.functional as F


FLUSH = None  # 256 MiB written before every timed run: no run starts with its inputs in L2


def timed(run, repeats=25, warmup=5):
    global FLUSH
    if FLUSH is None:
        FLUSH = torch.empty(1 << 26, dtype=torch.float32, device="cuda")
    for _ in range(warmup):
        run()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        FLUSH.zero_()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def bf16(*shape):
    return torch.randn(*shape, device="cuda", dtype=torch.bfloat16)


def tensor(s, *shape):
    return torch.randn(*shape, device="cuda", dtype=getattr(torch, s.get("dtype", "bfloat16")))


def forward_or_backward(s, inputs, forward):
    """Times forward(*inputs), or with "backward" the gradient of its output w.r.t. the inputs."""
    if not s.get("backward"):
        return lambda: forward(*inputs)
    inputs = [t.requires_grad_() for t in inputs]
    out = forward(*inputs)
    grad = torch.randn_like(out)
    return lambda: torch.autograd.grad(out, inputs, grad, retain_graph=True)


def rms_norm(s):
    x, w = tensor(s, s["rows"], s["width"]), tensor(s, s["width"])
    if s.get("residual"):  # the residual add, then the norm of the sum (two kernels in eager PyTorch)
        r = tensor(s, s["rows"], s["width"])
        return forward_or_backward(s, [x, r, w], lambda x, r, w: F.rms_norm(x + r, (s["width"],), w, 1e-5))
    return forward_or_backward(s, [x, w], lambda x, w: F.rms_norm(x, (s["width"],), w, 1e-5))


def rope(s):
    half = s["head_dim"] // 2
    x = tensor(s, s["tokens"], s["heads"], s["head_dim"])
    angles = torch.outer(torch.arange(s["tokens"], device="cuda").float(),
                         10000.0 ** (-torch.arange(half, device="cuda").float() / half))
    cos, sin = torch.cat([angles.cos()] * 2, -1)[:, None, :], torch.cat([angles.sin()] * 2, -1)[:, None, :]

    def run():
        rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated * sin
    return run


def swiglu(s):
    gate, up = tensor(s, s["rows"], s["width"]), tensor(s, s["rows"], s["width"])
    return forward_or_backward(s, [gate, up], lambda gate, up: F.silu(gate) * up)


def embedding(s):
    table = tensor(s, s["vocab"], s["width"])
    ids = torch.randint(0, s["vocab"], (s["tokens"],), device="cuda")
    return forward_or_backward(s, [table], lambda table: F.embedding(ids, table))


def cross_entropy(s):
    logits = tensor(s, s["rows"], s["vocab"])
    targets = torch.randint(0, s["vocab"], (s["rows"],), device="cuda")
    return forward_or_backward(s, [logits], lambda logits: F.cross_entropy(logits.float(), targets))


def adamw(s):
    params = [torch.nn.Parameter(torch.randn(n, device="cuda")) for n in s["sizes"]]
    for p in params:
        p.grad = torch.randn_like(p)
    optimizer = torch.optim.AdamW(params, lr=1e-4, fused=True)
    return optimizer.step


def matmul(s):
    a, b = tensor(s, s["m"], s["k"]), tensor(s, s["n"], s["k"])
    return lambda: a @ b.T


def copy(s):
    source = torch.randn(s["bytes"] // 4, device="cuda")
    destination = torch.empty_like(source)
    return lambda: destination.copy_(source)


def attention(s):
    if s.get("window"):
        return None  # SDPA has no sliding-window flash path; a mask would time a different kernel
    if s.get("dtype", "bfloat16") != "bfloat16":
        return None  # the flash path is bf16/fp16 only; a float32 peer would time the math fallback
    q = bf16(s["batch"], s["query_heads"], s["length"], s["head_dim"])
    k = bf16(s["batch"], s["kv_heads"], s["length"], s["head_dim"])
    v = bf16(s["batch"], s["kv_heads"], s["length"], s["head_dim"])
    groups = s["query_heads"] // s["kv_heads"]
    k, v = k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1)
    if s.get("backward"):
        q, k, v = (t.requires_grad_() for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        grad = torch.randn_like(out)
        return lambda: torch.autograd.grad(out, (q, k, v), grad, retain_graph=True)
    return lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)


PEERS = {"rms_norm": rms_norm, "rope": rope, "swiglu": swiglu, "embedding": embedding, "cross_entropy": cross_entropy,
         "adamw": adamw, "matmul": matmul, "attention": attention, "copy": copy}


def main(plan_path, out_path):
    with open(plan_path) as f:
        plan = json.load(f)
    results = {}
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
        for entry in plan:
            make = PEERS.get(entry["kind"])
            run = make(entry["shape"]) if make else None
            if run is not None:
                results[entry["name"]] = timed(run)
                print(f"{entry['name']}: {results[entry['name']]:.4f} ms", file=sys.stderr)
    with open(out_path, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
