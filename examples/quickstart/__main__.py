"""Quick start: one AWS CloudWatch log source in SigSentry.

Provider settings come from stack config (`sigsentry:apiUrl`, `sigsentry:apiKey`); the AWS keys
come from this project's secret config, so they never sit in source code or in plain text in state.
"""

import pulumi

from sigsentry_pulumi import LogSource

config = pulumi.Config()

source = LogSource(
    "prod-cloudwatch",
    type="cloudwatch",
    credentials={
        "accessKeyId": config.require_secret("awsAccessKeyId"),
        "secretAccessKey": config.require_secret("awsSecretAccessKey"),
    },
    sources=["/aws/lambda/checkout-api", "/aws/lambda/billing-worker"],
)

pulumi.export("log_source_id", source.id)
pulumi.export("log_source_name", source.name)
pulumi.export("tenant_id", source.tenant_id)
# Exported to show that Pulumi keeps it secret: `pulumi stack output` prints [secret].
pulumi.export("credentials", source.credentials)
