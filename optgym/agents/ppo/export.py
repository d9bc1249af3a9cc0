"""The exported-policy file: a trained PPO policy network and what rebuilds it, in one ``.pt``.

The payload is a dict: ``format`` (:data:`EXPORT_FORMAT`), ``observation`` (autophase or
programl), ``action_space`` (the pass table's name), ``episode_length``, ``mask_no_ops``,
``max_nodes``/``max_edges`` (programl padding), ``net`` (:class:`NetConfig` fields),
``state_dict`` (the SB3 policy's weights) and ``metadata`` (how it was trained).
Versions 1 and 2 hold the same network for Autophase observations and still load; their
ProGraML policies predate the current graph encoder (version 3 changed its message passing)
and are refused with a typed error.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import torch
from gymnasium import spaces

from optgym.agents.ppo.config import NetConfig, PpoConfig
from optgym.agents.ppo.extractor import policy_kwargs
from optgym.agents.ppo.observation import action_space_of, observation_space
from optgym.cache import atomic_write
from optgym.errors import OptgymError

#: The format :func:`export_policy` writes.
EXPORT_FORMAT = "optgym-ppo-v3"
#: Older formats whose Autophase policies load unchanged (same network as v3's).
READABLE_FORMATS = (EXPORT_FORMAT, "optgym-ppo-v2", "optgym-ppo-v1")


def export_policy(policy: Any, config: PpoConfig, path: str | Path,
                  metadata: dict[str, Any] | None = None) -> Path:
    """Save an SB3 policy network trained with ``config`` as a small ``.pt`` file."""
    payload = {
        "format": EXPORT_FORMAT,
        "observation": config.observation,
        "action_space": action_space_of(config.env_id),
        "episode_length": config.episode_length,
        "mask_no_ops": config.mask_no_ops,
        "max_nodes": config.max_nodes,
        "max_edges": config.max_edges,
        "net": dataclasses.asdict(config.net),
        "state_dict": {k: v.detach().cpu() for k, v in policy.state_dict().items()},
        "metadata": metadata or {},
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    path = Path(path)
    atomic_write(path, buf.getvalue())
    return path


def load_exported(path: str | Path, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    """Rebuild a policy from an export or an SB3 ``.zip``: ``(policy, payload-without-weights)``."""
    path = Path(path)
    if not path.is_file():
        raise OptgymError(f"PPO checkpoint {path} does not exist")
    if path.suffix == ".zip":
        return _load_sb3_zip(path, device)
    try:
        payload = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same error to the user
        raise OptgymError(f"PPO checkpoint {path} cannot be read: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") not in READABLE_FORMATS:
        raise OptgymError(f"PPO checkpoint {path} is not an {EXPORT_FORMAT} export")
    if payload["format"] != EXPORT_FORMAT and payload["observation"] != "autophase":
        raise OptgymError(f"PPO checkpoint {path} is a {payload['format']} ProGraML policy, "
                          "from before the current graph encoder; retrain it with "
                          "`optgym train ppo-llvm --set observation=programl`")
    from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy

    from optgym.llvm.passes import action_set

    n_actions = len(action_set(payload["action_space"]))
    obs_space = observation_space(payload["observation"], n_actions,
                                  max_nodes=payload["max_nodes"], max_edges=payload["max_edges"])
    policy = MaskableMultiInputActorCriticPolicy(
        obs_space, spaces.Discrete(n_actions), lr_schedule=lambda _: 0.0,
        **policy_kwargs(NetConfig(**payload["net"])))
    try:
        policy.load_state_dict(payload.pop("state_dict"))
    except RuntimeError as exc:
        raise OptgymError(f"PPO checkpoint {path} does not fit its own network: {exc}") from None
    policy.to(device).eval()
    return policy, payload


def _load_sb3_zip(path: Path, device: str) -> tuple[Any, dict[str, Any]]:
    """An SB3 checkpoint's policy, with the export fields read from its spaces."""
    from sb3_contrib import MaskablePPO

    model = MaskablePPO.load(path, device=device)
    spec = model.observation_space
    graph = "graph_nodes" in spec.spaces
    defaults = PpoConfig()
    info = {"observation": "programl" if graph else "autophase", "action_space": None,
            "episode_length": defaults.episode_length, "mask_no_ops": defaults.mask_no_ops,
            "max_nodes": spec["graph_nodes"].shape[0] if graph else defaults.max_nodes,
            "max_edges": spec["graph_edges"].shape[0] if graph else defaults.max_edges}
    return model.policy, info
