"""CompilerGym's ``compiler_gym.util`` helpers that its examples and scripts use: command-line
flags (:mod:`.flags`, absl-based), :class:`.timer.Timer`, :mod:`.shell_format`,
:func:`.capture_output.capture_output`, debug levels, log directories and cache paths."""
