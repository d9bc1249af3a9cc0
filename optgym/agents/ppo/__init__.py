"""PPO (sb3-contrib's MaskablePPO) on the pass-ordering environments ``optgym/llvm-*``.

One concern per module (importing this package loads none of them, nor torch):

* :mod:`~optgym.agents.ppo.config`: :class:`PpoConfig`, every setting of the ``ppo-llvm``
  recipe and its default.
* :mod:`~optgym.agents.ppo.observation`: the environment wrapper (Autophase vector or padded
  ProGraML graph, action history, progress, size) and its no-op action mask.
* :mod:`~optgym.agents.ppo.extractor`: the SB3 features extractor (an MLP over Autophase, or
  the shared :class:`~optgym.agents.encoders.ProgramlEncoder`).
* :mod:`~optgym.agents.ppo.export`: the exported-policy file format.
* :mod:`~optgym.agents.ppo.policy`: a trained model as a policy (``get_policy("ppo")``) and
  its evaluation.
* :mod:`~optgym.agents.ppo.train`: the ``ppo-llvm`` recipe, readable top to bottom.
"""
