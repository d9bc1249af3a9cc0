"""Bring your own model and see its timeline: a JAX function and an ONNX model in bf16 are each
traced, mapped, checked and shown (PNG and HTML); the HTML page renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from optgym.cli import main
from optgym.errors import BenchmarkError
from optgym.memory.check import check_mapping
from optgym.memory.graph import Workload
from optgym.memory.workloads import load_problem

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

JAX_MODELS = '''
import jax, jax.numpy as jnp

def make():
    """An MLP block with an embedding lookup, in bf16."""
    def block(w1, w2, table, x, idx):
        h = jax.nn.gelu(x @ w1)
        return jax.nn.softmax(h @ w2 + table[idx], axis=-1)
    bf = jnp.bfloat16
    return block, (jnp.zeros((256, 1024), bf), jnp.zeros((1024, 256), bf), jnp.zeros((20000, 256), bf),
                   jnp.zeros((128, 256), bf), jnp.zeros((128,), jnp.int32))

def broken():
    return (lambda x: x.undefined_attribute, (jnp.zeros(3),))
'''


def _map_check_show(tmp_path: Path, workload: Path, stem: str, capsys) -> str:
    """Solve with search, check the mapping, draw the timeline; returns the HTML page's text."""
    out = tmp_path / f"{stem}-mapping.json"
    assert main(["memory", "solve", str(workload), "--agent", "search", "--time-limit", "1",
                 "--out", str(out)]) == 0
    assert main(["memory", "check", str(workload), "--mapping", str(out)]) == 0
    assert "0 hazard(s)" in capsys.readouterr().out
    png = tmp_path / f"{stem}.png"
    assert main(["memory", "show", str(workload), "--agent", "search", "--time-limit", "1", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    return png.with_suffix(".html").read_text()


def test_jax_function_traced_mapped_and_shown(tmp_path, monkeypatch, capsys):
    pytest.importorskip("jax")  # the dev extra installs it; the memory package works without
    (tmp_path / "jaxmodels.py").write_text(JAX_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "block.json"
    assert main(["memory", "trace", "--jax", "jaxmodels:make", "--out", str(out)]) == 0
    assert "bfloat16" in capsys.readouterr().out
    w = Workload.load(out)
    assert {"dot", "gather"} <= {t.split("+")[0] for t in w.op_types}
    table = w.tensor_bytes.tolist().index(20000 * 256 * 2)  # the table stays bf16
    gather = next(i for i, t in enumerate(w.op_types) if t.startswith("gather"))
    reads = dict(zip(w.inputs_of(gather).tolist(), w.op_in_bytes[w.op_in_ptr[gather]:w.op_in_ptr[gather + 1]].tolist(),
                     strict=True))
    assert reads[table] == 128 * 256 * 2  # the rows selected, not the table
    assert w.op_transcendentals.sum() > 0  # gelu's tanh and softmax's exp
    page = _map_check_show(tmp_path, out, "jax", capsys)
    assert "copy engine" in page
    assert main(["memory", "trace", "--jax", "jaxmodels:broken", "--out", str(tmp_path / "x.json")]) == 2
    with pytest.raises(BenchmarkError, match="lower"):
        from optgym.memory.hlo_import import trace_jax

        trace_jax("jaxmodels:broken")


def _onnx_mlp(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w1 = numpy_helper.from_array(np.zeros((512, 2048), np.float32), "w1")
    w2 = numpy_helper.from_array(np.zeros((2048, 512), np.float32), "w2")
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
             helper.make_node("Tanh", ["h"], ["ht"], name="act"),
             helper.make_node("MatMul", ["ht", "w2"], ["y"], name="fc2"),
             helper.make_node("Add", ["y", "x"], ["z"], name="residual")]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [128, 512])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, [128, 512])], [w1, w2])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_onnx_model_in_bf16_traced_mapped_and_shown(tmp_path, capsys):
    model = tmp_path / "mlp.onnx"
    _onnx_mlp(model)
    out32, out16 = tmp_path / "mlp32.json", tmp_path / "mlp16.json"
    assert main(["memory", "trace", str(model), "--out", str(out32)]) == 0
    assert main(["memory", "trace", str(model), "--dtype", "bfloat16", "--out", str(out16)]) == 0
    w32, w16 = Workload.load(out32), Workload.load(out16)
    assert set(w16.tensor_dtypes) == {"bfloat16"} and w32.tensor_bytes.sum() == 2 * w16.tensor_bytes.sum()
    p32, hw = load_problem(str(out32), "tpu-like")
    p16, _ = load_problem(str(out16), "tpu-like")
    from optgym.memory.timeline import CostModel

    assert CostModel(p16, hw).all_slow < CostModel(p32, hw).all_slow  # half the bytes to move
    page = _map_check_show(tmp_path, out16, "onnx", capsys)
    assert "stall" in page
    res_ok = check_mapping(p16, hw, np.full(p16.n_buffers, -1))
    assert res_ok == []


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                    "(scripts/setup.sh installs it; or: apt-get install chromium)")
def test_timeline_page_renders_in_headless_chromium(tmp_path):
    png = tmp_path / "moe.png"
    assert main(["memory", "show", "moe-8e", "--agent", "xla", "--out", str(png)]) == 0
    page = png.with_suffix(".html")
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # self-contained
    p, hw = load_problem("moe-8e", "tpu-like")
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--no-default-browser-check", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*args, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    view = re.search(r'<div id="view"[^>]*>', dom.stdout)
    assert view and 'data-ready="yes"' in view.group(0), "the page's script did not run"
    rects = int(re.search(r'data-rects="(\d+)"', view.group(0)).group(1))
    assert rects > p.n_ops  # every op, plus the stalls and copies of XLA's mapping
    assert dom.stdout.count('class="stall"') > 0 and dom.stdout.count('class="prefetch"') > 0
    shot = tmp_path / "shot.png"
    run = subprocess.run([*args, "--window-size=1200,700", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
