"""CompilerGym's absl command-line flags (``compiler_gym.util.flags.*``): each module defines
its flags when it is imported, as CompilerGym's did, so scripts that define flags of the same
names themselves keep working."""
