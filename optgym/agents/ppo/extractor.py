"""The PPO policy's features extractor: the wrapped observation -> one feature vector.

Autophase: log-scaled counts into an MLP. Programl: the padded arrays become one batch of
graphs for the shared :class:`~optgym.agents.encoders.ProgramlEncoder`. Both see the action
history, the episode's progress and the relative size too.
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from optgym.agents.encoders import AUTOPHASE_SIZE, ProgramlEncoder, log_autophase
from optgym.agents.ppo.config import NetConfig


class PassOrderingExtractor(BaseFeaturesExtractor):
    """An MLP over log-scaled Autophase counts, or the ProGraML encoder over the graph."""

    def __init__(self, observation_space: spaces.Dict, hidden: int, gnn_dim: int,
                 gnn_layers: int, vocab_size: int = 0):
        self.graph = "graph_nodes" in observation_space.spaces
        super().__init__(observation_space, features_dim=hidden)
        side = observation_space["history"].shape[0] + 2  # history, progress, log size
        if self.graph:
            from optgym.programgraphs import default_vocabulary

            self.encoder = ProgramlEncoder(vocab_size or len(default_vocabulary()), gnn_dim,
                                           gnn_layers)
            body_in = self.encoder.out_dim + side
        else:
            body_in = AUTOPHASE_SIZE + side
        self.body = nn.Sequential(nn.Linear(body_in, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, obs: dict[str, Any]) -> torch.Tensor:
        side = [obs["history"], obs["progress"], torch.log(obs["size"].clamp_min(1e-3))]
        program = self._embed_graphs(obs) if self.graph else log_autophase(obs["autophase"])
        return self.body(torch.cat([program, *side], dim=1))

    def _embed_graphs(self, obs: dict[str, Any]) -> torch.Tensor:
        """Unpad a batch of graphs into one disjoint union and encode it."""
        nodes, edges, size = obs["graph_nodes"], obs["graph_edges"], obs["graph_size"]
        b, max_n, _ = nodes.shape
        n, e = size[:, 0].long(), size[:, 1].long()
        device = nodes.device
        node_ok = torch.arange(max_n, device=device)[None, :] < n[:, None]
        edge_ok = torch.arange(edges.shape[1], device=device)[None, :] < e[:, None]
        batch = torch.arange(b, device=device)[:, None].expand(b, max_n)[node_ok]
        flat = nodes[node_ok].long()
        ed = edges.long()
        offset = (torch.cumsum(n, 0) - n)[:, None]  # where each graph's nodes start
        edge_index = torch.stack([(ed[..., 0] + offset)[edge_ok], (ed[..., 1] + offset)[edge_ok]])
        return self.encoder(flat[:, 1], flat[:, 0], edge_index, ed[..., 2][edge_ok],
                            ed[..., 3][edge_ok], batch, b)


def policy_kwargs(net: NetConfig) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` for a network configuration."""
    return {
        "features_extractor_class": PassOrderingExtractor,
        "features_extractor_kwargs": {"hidden": net.hidden, "gnn_dim": net.gnn_dim,
                                      "gnn_layers": net.gnn_layers},
        "net_arch": {"pi": [net.hidden], "vf": [net.hidden]},
    }
