"""${PROJECT}: SigSentry log sources managed with Pulumi (sigsentry-pulumi).

Provider settings come from stack config (`sigsentry:apiUrl`, `sigsentry:apiKey`); the AWS keys
come from this project's secret config, so they never sit in source code or in plain text in state.
Add one `LogSource` per platform to ingest: cloudwatch, datadog, loki, splunk, elastic, gcp_logging.
"""

import pulumi

from sigsentry_pulumi import LogSource

config = pulumi.Config()
log_groups = [group.strip() for group in config.require("logGroups").split(",") if group.strip()]

cloudwatch = LogSource(
    "cloudwatch",
    type="cloudwatch",
    credentials={
        "accessKeyId": config.require_secret("awsAccessKeyId"),
        "secretAccessKey": config.require_secret("awsSecretAccessKey"),
    },
    sources=log_groups,
)

pulumi.export("log_source_id", cloudwatch.id)
pulumi.export("log_source_name", cloudwatch.name)
