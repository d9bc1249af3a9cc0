"""The CompilerGym half of benchmarks/compilergym_compare.py. It runs under the old Python that
CompilerGym 0.2.5 needs (3.7-3.9; it does not import optgym) and answers the driver's commands,
one JSON line each way:

    ["convert", "in.ll", "out.bc"]       LLVM IR text -> LLVM 10 bitcode (llvmlite 0.35)
    ["open", "small", "prog.bc"]         an llvm-v0 env on that bitcode
    ["flags", "small"]                   the env's action flags
    ["measure", "small", metric, n, [flag, ...]]   n timings of a metric, in seconds
    ["close"]

Metrics: ``reset``; ``step`` (the given flags in turn, a reset every 20 steps); ``step-gvn``
(-gvn on a freshly reset module); ``fork``; ``programl`` (the Programl observation of a freshly
reset module, as CompilerGym delivers it: a networkx graph).
"""

import json
import os
import re
import sys
import time


def convert(src, dst):
    """Clang 14's -O0 IR as LLVM 10 bitcode: attributes and metadata LLVM 10 does not know are
    dropped (none changes what a pass can do with the code)."""
    import llvmlite.binding as llvm

    llvm.initialize()
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    with open(src) as f:
        text = f.read()
    for word in ("mustprogress", "noundef", "willreturn", "nofree", "nosync", "nocallback",
                 "noprofile"):
        text = re.sub(rf"\b{word}\b ?", "", text)
    text = re.sub(r", !llvm\.loop !\d+", "", text)
    text = re.sub(r"^!.*$", "", text, flags=re.M)
    module = llvm.parse_assembly(text)
    module.verify()
    with open(dst, "wb") as f:
        f.write(module.as_bitcode())
    return 0


class Side:
    def __init__(self):
        self.envs = {}

    def open(self, name, path):
        import compiler_gym
        from compiler_gym.envs.llvm import make_benchmark

        env = compiler_gym.make("llvm-v0", benchmark=make_benchmark(path),
                                observation_space="IrInstructionCount",
                                reward_space="IrInstructionCountOz")
        env.reset()  # baselines computed once, as optgym's side does
        self.envs[name] = env
        return env.observation["IrInstructionCount"]

    def flags(self, name):
        return list(self.envs[name].action_space.flags)

    def measure(self, name, metric, n, flags):
        env = self.envs[name]
        index = {f: i for i, f in enumerate(env.action_space.flags)}
        out = []
        if metric == "step":
            env.reset()
            for i, flag in enumerate(flags[:n]):
                if i and i % 20 == 0:
                    env.reset()
                t = time.perf_counter()
                env.step(index[flag])
                out.append(time.perf_counter() - t)
            return out
        for _ in range(n):
            if metric == "reset":
                t = time.perf_counter()
                env.reset()
                out.append(time.perf_counter() - t)
            elif metric == "step-gvn":
                env.reset()
                t = time.perf_counter()
                env.step(index["-gvn"])
                out.append(time.perf_counter() - t)
            elif metric == "fork":
                env.reset()
                t = time.perf_counter()
                other = env.fork()
                out.append(time.perf_counter() - t)
                other.close()
            elif metric == "programl":
                env.reset()
                t = time.perf_counter()
                env.observation["Programl"]
                out.append(time.perf_counter() - t)
            else:
                raise ValueError(f"unknown metric {metric!r}")
        return out

    def close(self):
        for env in self.envs.values():
            env.close()
        self.envs = {}


def main():
    if sys.argv[1:2] == ["convert"]:
        return convert(sys.argv[2], sys.argv[3])
    # The replies go to a private copy of stdout; anything CompilerGym prints goes to stderr.
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    side = Side()
    try:
        for line in sys.stdin:
            command = json.loads(line)
            try:
                if command[0] == "close":
                    break
                reply = {"ok": getattr(side, command[0])(*command[1:])}
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the driver
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    finally:
        side.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
