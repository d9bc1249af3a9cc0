"""Fixtures CompilerGym's LLVM tests import from their llvm plugin (optgym's)."""

import pytest

from optgym.compat import make
from optgym.llvm.passes import FLAGS
from optgym.llvm.toolchain import clang as _clang
from optgym.llvm.toolchain import opt as _opt
from optgym.llvm.toolchain import tool

ACTION_NAMES = list(FLAGS.flags)
BENCHMARK_NAMES = [f"benchmark://cbench-v1/{n}" for n in (
    "adpcm bitcount blowfish bzip2 crc32 dijkstra ghostscript gsm ispell jpeg-c jpeg-d lame "
    "patricia qsort rijndael sha stringsearch stringsearch2 susan tiff2bw tiff2rgba "
    "tiffdither tiffmedian").split()]

_env = make("llvm-v0")
OBSERVATION_SPACE_NAMES = sorted(_env.observation.spaces)
REWARD_SPACE_NAMES = sorted(_env.reward.spaces)
_env.close()
VALIDATABLE_CBENCH_URIS = list(BENCHMARK_NAMES)
NON_VALIDATABLE_CBENCH_URIS: list = []


@pytest.fixture(scope="module")
def action_names():
    return ACTION_NAMES


@pytest.fixture(scope="module", params=OBSERVATION_SPACE_NAMES)
def observation_space(request):
    return request.param


@pytest.fixture(scope="module", params=REWARD_SPACE_NAMES)
def reward_space(request):
    return request.param


@pytest.fixture(scope="module")
def benchmark_names():
    return BENCHMARK_NAMES


@pytest.fixture(scope="module", params=ACTION_NAMES)
def action_name(request):
    return request.param


@pytest.fixture(scope="module", params=BENCHMARK_NAMES)
def benchmark_name(request):
    return request.param


@pytest.fixture(scope="module", params=VALIDATABLE_CBENCH_URIS)
def validatable_cbench_uri(request):
    return request.param


@pytest.fixture(scope="module", params=["builtin-v0", "cbench-v1", "generator://csmith-v0",
                                        "generator://llvm-stress-v0"])
def dataset(request):
    """Installed datasets, one at a time."""
    env = make("llvm-v0")
    try:
        yield env.datasets[request.param]
    finally:
        env.close()


def setup_test_datasets(env):
    """CompilerGym limited its tests to cBench; the stand-in needs nothing set up."""


@pytest.fixture
def env():
    """A CompilerGym LLVM environment."""
    e = make("llvm-v0")
    try:
        yield e
    finally:
        e.close()


@pytest.fixture(scope="module")
def llvm_opt():
    return _opt()


@pytest.fixture(scope="module")
def llvm_diff():
    return tool("llvm-diff")


@pytest.fixture(scope="module")
def clang():
    return _clang()
