#!/usr/bin/env python3
"""llama.cpp through its shared library: quantize, bench and generate without its CLI tools.

tools/llama/build.sh builds libllama.so first and the command-line tools last; on a loaded
2-core machine the tools can lag by an hour. This drives the same library through the ctypes
module of the pinned llama-cpp-python sdist (its llama_cpp/llama_cpp.py, no compiled extension),
so tools/llama/side_by_side.sh and tools/oracle/make_real_model_llama_logits.py can run as soon
as libllama.so exists. The measurements are llama.cpp's own code; only the loop around
llama_decode is Python (microseconds per call, against milliseconds per token).

    llama_ctypes.py quantize IN OUT TYPE            # llama_model_quantize, --allow-requantize on
    llama_ctypes.py bench -m F -t 1,2 -p 128 -n 64 -r 3
        # llama-bench's pp/tg tests (same defaults: f16 KV cache, batch 2048 / ubatch 512,
        # random tokens, one warm-up run), JSON records with llama-bench's field names
    llama_ctypes.py generate -m F -f PROMPT_FILE -n 100 -t 2 [--ignore-eos]
        # greedy generation (llama.cpp's greedy sampler); prints the text, and one JSON line
        # (prompt and new tokens, seconds from model load to the last token) on stderr
"""
import argparse
import ctypes
import json
import os
import pathlib
import random
import statistics
import sys
import tarfile
import time
import types

CACHE = pathlib.Path(os.environ.get("DECOGRAPH_CACHE", pathlib.Path.home() / ".cache/decograph"))
SDIST_VERSION = "0.3.36"  # tools/llama/build.sh's pinned llama-cpp-python
FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q4_K_M": 15, "BF16": 32}
# llama-bench's defaults for the context of a test.
BENCH_BATCH, BENCH_UBATCH = 2048, 512


def bindings():
    """Imports llama_cpp's ctypes module from the sdist, loading build.sh's libllama.so."""
    unpacked = CACHE / f"llama_cpp_python-{SDIST_VERSION}-bindings"
    if not (unpacked / "llama_cpp").is_dir():
        sdist = CACHE / f"llama_cpp_python-{SDIST_VERSION}.tar.gz"
        with tarfile.open(sdist) as tar:
            prefix = f"llama_cpp_python-{SDIST_VERSION}/"
            members = [m for m in tar.getmembers()
                       if m.name.startswith(prefix + "llama_cpp/") and "/server/" not in m.name]
            for m in members:
                m.name = m.name[len(prefix):]
            tar.extractall(unpacked, members=members, filter="data")
    libs = sorted((CACHE / "llama.cpp/build").rglob("libllama.so"))
    if not libs:
        sys.exit("no libllama.so under the llama.cpp build; run tools/llama/build.sh")
    os.environ["LLAMA_CPP_LIB_PATH"] = str(libs[0].parent)
    # The package's __init__ imports the high-level API and its dependencies (diskcache, …);
    # only the ctypes module is needed, so the package is registered without running __init__.
    package = types.ModuleType("llama_cpp")
    package.__path__ = [str(unpacked / "llama_cpp")]
    sys.modules["llama_cpp"] = package
    import llama_cpp.llama_cpp as L
    # llama.cpp logs every tensor it loads on stderr; the callback is kept alive on the module.
    L.quiet_log = L.llama_log_callback(lambda level, text, data: None)
    L.llama_log_set(L.quiet_log, None)
    L.llama_backend_init()
    return L


def load(L, path):
    model = L.llama_model_load_from_file(path.encode(), L.llama_model_default_params())
    if not model:
        sys.exit(f"llama.cpp could not load {path}")
    return model


# ggml.h's GGML_MAX_N_THREADS and llama-bench's default polling level (0 … 100).
GGML_MAX_N_THREADS = 512
BENCH_POLL = 50


class ThreadpoolParams(ctypes.Structure):
    """ggml.h's struct ggml_threadpool_params."""
    _fields_ = [("cpumask", ctypes.c_bool * GGML_MAX_N_THREADS), ("n_threads", ctypes.c_int), ("prio", ctypes.c_int),
                ("poll", ctypes.c_uint32), ("strict_cpu", ctypes.c_bool), ("paused", ctypes.c_bool)]


def attach_threadpool(L, ctx, threads):
    """A persistent ggml thread pool for `ctx`, as llama-bench and llama-cli attach one (without it
    ggml starts and joins its threads on every graph evaluation). The ctypes module does not
    bind these calls, so they are declared here from ggml.h / ggml-cpu.h / llama.h."""
    lib = pathlib.Path(os.environ["LLAMA_CPP_LIB_PATH"])
    base, cpu = ctypes.CDLL(str(lib / "libggml-base.so")), ctypes.CDLL(str(lib / "libggml-cpu.so"))
    base.ggml_threadpool_params_default.restype = ThreadpoolParams
    base.ggml_threadpool_params_default.argtypes = [ctypes.c_int]
    cpu.ggml_threadpool_new.restype = ctypes.c_void_p
    cpu.ggml_threadpool_new.argtypes = [ctypes.POINTER(ThreadpoolParams)]
    cpu.ggml_threadpool_free.restype, cpu.ggml_threadpool_free.argtypes = None, [ctypes.c_void_p]
    attach = L._lib.llama_attach_threadpool
    attach.restype, attach.argtypes = None, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    params = base.ggml_threadpool_params_default(threads)
    params.poll = BENCH_POLL
    pool = cpu.ggml_threadpool_new(ctypes.byref(params))
    if not pool:
        sys.exit(f"ggml_threadpool_new failed for {threads} threads")
    attach(ctx, pool, None)
    return lambda: cpu.ggml_threadpool_free(pool)


def context(L, model, n_ctx, threads, batch=BENCH_BATCH, ubatch=BENCH_UBATCH):
    p = L.llama_context_default_params()
    p.n_ctx, p.n_batch, p.n_ubatch = n_ctx, min(batch, n_ctx), min(ubatch, n_ctx)
    p.n_threads = p.n_threads_batch = threads
    ctx = L.llama_init_from_model(model, p)
    if not ctx:
        sys.exit("llama.cpp could not create a context")
    free_pool = attach_threadpool(L, ctx, threads)

    def close():
        L.llama_free(ctx)
        free_pool()
    return ctx, close


def decode(L, ctx, tokens, start):
    batch = L.llama_batch_init(len(tokens), 0, 1)
    for i, t in enumerate(tokens):
        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = t, start + i, 1, int(i == len(tokens) - 1)
        batch.seq_id[i][0] = 0
    batch.n_tokens = len(tokens)
    rc = L.llama_decode(ctx, batch)
    L.llama_batch_free(batch)
    if rc != 0:
        sys.exit(f"llama_decode returned {rc}")


def quantize(args):
    L = bindings()
    params = L.llama_model_quantize_default_params()
    params.ftype = FTYPES[args.type]
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    if L.llama_model_quantize(args.input.encode(), args.output.encode(), params) != 0:
        sys.exit(f"llama_model_quantize failed for {args.input} → {args.type}")


def bench(args):
    L = bindings()
    model = load(L, args.model)
    n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
    rng = random.Random(0)
    records = []
    for threads in [int(t) for t in args.threads.split(",")]:
        ctx, close = context(L, model, args.p + args.n, threads)
        memory = L.llama_get_memory(ctx)

        def pp():
            L.llama_memory_clear(memory, True)
            start = time.perf_counter()
            for at in range(0, args.p, BENCH_BATCH):
                decode(L, ctx, [rng.randrange(n_vocab) for _ in range(min(BENCH_BATCH, args.p - at))], at)
            L.llama_synchronize(ctx)
            return time.perf_counter() - start

        def tg():
            L.llama_memory_clear(memory, True)
            start = time.perf_counter()
            for i in range(args.n):
                decode(L, ctx, [rng.randrange(n_vocab)], i)
            L.llama_synchronize(ctx)
            return time.perf_counter() - start

        for tokens, n_prompt, n_gen, run in ((args.p, args.p, 0, pp), (args.n, 0, args.n, tg)):
            if tokens == 0:
                continue
            run()  # warm-up, as llama-bench
            seconds = [run() for _ in range(args.r)]
            rates = [tokens / s for s in seconds]
            records.append({"model_filename": args.model, "n_threads": threads, "n_prompt": n_prompt, "n_gen": n_gen,
                            "avg_ns": int(statistics.mean(seconds) * 1e9), "avg_ts": statistics.mean(rates),
                            "stddev_ts": statistics.stdev(rates) if len(rates) > 1 else 0.0, "samples_ts": rates,
                            "driver": "tools/llama/llama_ctypes.py (libllama.so)"})
        close()
    L.llama_model_free(model)
    print(json.dumps(records, indent=1))


def generate(args):
    start = time.perf_counter()
    L = bindings()
    model = load(L, args.model)
    vocab = L.llama_model_get_vocab(model)
    text = pathlib.Path(args.f).read_bytes()
    ids = (L.llama_token * (len(text) + 8))()
    n = L.llama_tokenize(vocab, text, len(text), ids, len(ids), False, True)
    prompt = list(ids[:n])
    ctx, close = context(L, model, len(prompt) + args.n, args.t)
    sampler = L.llama_sampler_init_greedy()
    decode(L, ctx, prompt, 0)
    out, piece = [], ctypes.create_string_buffer(256)
    for i in range(args.n):
        token = L.llama_sampler_sample(sampler, ctx, -1)
        if not args.ignore_eos and L.llama_vocab_is_eog(vocab, token):
            break
        out.append(token)
        if i + 1 < args.n:
            decode(L, ctx, [token], len(prompt) + i)
    seconds = time.perf_counter() - start
    for token in out:
        size = L.llama_token_to_piece(vocab, token, piece, len(piece), 0, True)
        sys.stdout.buffer.write(piece.raw[:max(size, 0)])
    print()
    print(json.dumps({"prompt_tokens": len(prompt), "new_tokens": len(out), "seconds": seconds}), file=sys.stderr)
    L.llama_sampler_free(sampler)
    close()
    L.llama_model_free(model)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quantize")
    q.add_argument("input")
    q.add_argument("output")
    q.add_argument("type", choices=sorted(FTYPES))
    b = sub.add_parser("bench")
    b.add_argument("-m", dest="model", required=True)
    b.add_argument("-t", dest="threads", default="1,2")
    b.add_argument("-p", type=int, default=128)
    b.add_argument("-n", type=int, default=64)
    b.add_argument("-r", type=int, default=3)
    g = sub.add_parser("generate")
    g.add_argument("-m", dest="model", required=True)
    g.add_argument("-f", required=True)
    g.add_argument("-n", type=int, default=100)
    g.add_argument("-t", type=int, default=2)
    g.add_argument("--ignore-eos", action="store_true")
    args = parser.parse_args()
    {"quantize": quantize, "bench": bench, "generate": generate}[args.command](args)


if __name__ == "__main__":
    main()
