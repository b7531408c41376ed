#!/usr/bin/env python3
"""The PyTorch side of bench/training.ts: the same GPT-2 (tied LM head, gelu_new, causal
attention, last position dropped before the head) trained with torch.optim.AdamW on the same
initial weights and the same batches, which bench/training.ts writes into a folder.

usage: pytorch-reference.py FOLDER THREADS
FOLDER holds meta.json (config, parameter names and shapes, hyper-parameters), weights.bin
(float32 little-endian, parameters in meta order) and batches.bin (int64 [steps, batch, seq]).
Prints one JSON line: torch version, threads, per-step seconds and losses.
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load(folder):
    with open(f"{folder}/meta.json") as f:
        meta = json.load(f)
    flat = np.fromfile(f"{folder}/weights.bin", dtype="<f4")
    params, offset = {}, 0
    for name, shape in meta["parameters"]:
        size = int(np.prod(shape))
        params[name] = torch.tensor(flat[offset : offset + size].reshape(shape), requires_grad=True)
        offset += size
    batches = torch.from_numpy(np.fromfile(f"{folder}/batches.bin", dtype="<i8").reshape(meta["steps"], meta["batch"], meta["seq"]))
    return meta, params, batches


def loss_of(p, ids, cfg):
    b, t = ids.shape
    e, h, eps = cfg["nEmbd"], cfg["nHead"], cfg["layerNormEpsilon"]
    d = e // h
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    x = (p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][:t]).view(b * t, e)
    for i in range(cfg["nLayer"]):
        w = lambda name: p[f"transformer.h.{i}.{name}"]  # noqa: E731
        a = F.layer_norm(x, (e,), w("ln_1.weight"), w("ln_1.bias"), eps)
        qkv = torch.addmm(w("attn.c_attn.bias"), a, w("attn.c_attn.weight")).view(b, t, 3, h, d)
        q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        probs = scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        context = (probs @ v).transpose(1, 2).reshape(b * t, e)
        x = x + torch.addmm(w("attn.c_proj.bias"), context, w("attn.c_proj.weight"))
        m = F.layer_norm(x, (e,), w("ln_2.weight"), w("ln_2.bias"), eps)
        fc = F.gelu(torch.addmm(w("mlp.c_fc.bias"), m, w("mlp.c_fc.weight")), approximate="tanh")
        x = x + torch.addmm(w("mlp.c_proj.bias"), fc, w("mlp.c_proj.weight"))
    x = F.layer_norm(x, (e,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], eps)
    scored = x.view(b, t, e)[:, :-1].reshape(-1, e)
    logits = scored @ p["transformer.wte.weight"].t()
    return F.cross_entropy(logits, ids[:, 1:].reshape(-1))


def blas_library():
    """The BLAS shared library torch resolved (Debian's python3-torch uses whatever libblas.so.3 points to)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    return sorted(paths)[0] if paths else "unknown"


def main():
    folder, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    meta, params, batches = load(folder)
    hp = meta["hyperparameters"]
    decayed = [p for n, p in params.items() if n in set(meta["decayed"])]
    plain = [p for n, p in params.items() if n not in set(meta["decayed"])]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": hp["weightDecay"]}, {"params": plain, "weight_decay": 0.0}],
        lr=hp["learningRate"],
        betas=(0.9, 0.999),
        eps=1e-8,
    )
    seconds, losses = [], []
    for step in range(meta["steps"]):
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(params, batches[step], meta["config"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), hp["gradClip"])
        optimizer.step()
        seconds.append(time.perf_counter() - started)
        losses.append(loss.item())
    print(json.dumps({"torch": torch.__version__, "blas": blas_library(), "threads": threads, "seconds": seconds, "losses": losses}))


if __name__ == "__main__":
    main()
