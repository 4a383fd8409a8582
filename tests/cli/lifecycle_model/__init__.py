"""A model-based lifecycle checker for the real-CLI suite: seeded random walks over real `pulumi`
operations against the emulator, with invariants checked after every step.

`model`: the declared program as data (one `Declared` per `LogSource`), the inline program built
from it, and the random edits a walk makes. `faults`: the fault table, one entry per kind.
`operations`: each Pulumi command run in a child process of its own (so a kill -9 is real).
`invariants`: what must hold after each step. `walk`: the seeded walk that ties them together.
docs/lifecycle-checker.md says how to run and replay walks.
"""
