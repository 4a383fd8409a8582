"""Development tools: the pinned Pulumi CLI (tools/pulumi/) and how to run it privately."""
