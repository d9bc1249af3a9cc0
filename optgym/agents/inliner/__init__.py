"""The learned size inliner: a policy over the inlining environment's call-site features, its
training recipe (``optgym train inliner``), and searches over inlining decisions."""
