"""The ``ppo-llvm`` recipe's settings, each with its one default (no torch imported here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from optgym.agents.config import RecipeConfig, check_choice

OBSERVATIONS = ("autophase", "programl")


@dataclass
class NetConfig:
    """The policy network: features-extractor width and the ProGraML encoder's size."""

    hidden: int = 128  # features and policy/value layer width
    gnn_dim: int = 64  # programl: node state size
    gnn_layers: int = 3  # programl: rounds of message passing


@dataclass
class PpoHyperparameters:
    """Passed to sb3-contrib's MaskablePPO as keyword arguments."""

    n_steps: int = 512  # per env, per rollout
    batch_size: int = 256
    n_epochs: int = 4
    learning_rate: float = 0.0003
    gamma: float = 0.99
    gae_lambda: float = 0.95
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    clip_range: float = 0.2
    max_grad_norm: float = 0.5
    target_kl: float | None = None  # ignored under torchrun (ranks must stay in step)


@dataclass
class EvalConfig:
    """The evaluation after training (main rank; over Ray when the run has an address)."""

    dataset: str = "builtin-v0"
    split: str | None = "validation"
    csmith: int = 0  # also the first N csmith-v0 seeds of csmith_split
    csmith_split: str = "test"
    budget: int = 45  # compilations per program
    fallback_oz: bool = True


@dataclass
class PpoConfig(RecipeConfig):
    """Masked PPO on the pass-ordering environments (the ``ppo-llvm`` recipe)."""

    env_id: str = "optgym/llvm-safe-ic-v0"  # any optgym/llvm-* id; -safe-: only safe passes
    observation: str = "autophase"  # autophase (MLP) or programl (GNN over the ProGraML graph)
    dataset: str = "builtin-v0"
    split: str | None = "train"  # episodes draw a random program of this split
    realc: int = 0  # and of this many realc-v0 modules per project of the same split
    realc_max_instructions: int = 5000  # leaving out bigger modules (slow 45-step episodes)
    benchmark: str | None = None  # or train on this one program only
    episode_length: int = 45  # steps per episode (= the 45-compilation evaluation budget)
    mask_no_ops: bool = True  # mask passes that just had no effect until the module changes
    n_envs: int = 2  # environments per rank
    vec_env: str = "subproc"  # subproc (one process per env) or dummy (in-process)
    total_timesteps: int = 200_000  # per rank
    max_seconds: float | None = None  # stop training after this wall time (all ranks together)
    checkpoint_every: int = 10_000  # timesteps between checkpoints/ppo-latest.zip
    torch_threads: int = 1
    max_nodes: int = 4096  # programl: graphs are padded/cut to this many nodes
    max_edges: int = 12288  # and edges
    net: NetConfig = field(default_factory=NetConfig)
    ppo: PpoHyperparameters = field(default_factory=PpoHyperparameters)
    eval: EvalConfig | None = field(default_factory=EvalConfig)  # null: no evaluation

    def __post_init__(self) -> None:
        check_choice("observation", self.observation, OBSERVATIONS)
        check_choice("vec_env", self.vec_env, ("subproc", "dummy"))
        if not self.env_id.removeprefix("optgym:").startswith("optgym/llvm"):
            check_choice("env_id", self.env_id, ["an optgym/llvm-* id"])
