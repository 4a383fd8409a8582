"""Serve the `sigsentry-guardrails` policy pack.

`pulumi preview --policy-pack policy/` runs this file (through `python -m pulumi.policy`, from this
directory); so does `--policy-pack policy/run-pack`, for a CLI without the Python language host.
`PolicyPack(...)` starts the Analyzer gRPC server, prints its port on stdout and serves until the
engine stops the process. The policies come from the installed package,
`sigsentry_pulumi.policies` (`pip install 'sigsentry-pulumi[policy]'`).
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from sigsentry_pulumi.policies import PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Guardrails for SigSentry log sources managed with sigsentry-pulumi.",
    display_name="SigSentry guardrails",
)
