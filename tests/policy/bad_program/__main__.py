"""Log sources that each break exactly one sigsentry-guardrails policy.

Run with the policy config `{"verify-enabled": {"stacks": ["prod"]}}` on stack `prod`; every other
policy keeps its default config. Credentials come from secret config, as in examples/all-types.
"""

import pulumi

from sigsentry_pulumi import CloudWatchCredentials, GcpLoggingCredentials, LogSource

config = pulumi.Config()
aws: CloudWatchCredentials = {
    "accessKeyId": config.require_secret("awsAccessKeyId"),
    "secretAccessKey": config.require_secret("awsSecretAccessKey"),
}
service_account: GcpLoggingCredentials = {
    "serviceAccountJson": config.require_secret("gcpServiceAccountJson")
}

# https-hosts: a Loki host over plain http.
LogSource(
    "insecure-loki",
    type="loki",
    credentials={"host": "http://loki.example.com", "apiKey": config.require_secret("lokiApiKey")},
    sources=['{app="checkout-api"}'],
    verify=True,
)
# verify-enabled: verify left at its default (false) on a stack that requires it.
LogSource(
    "unverified",
    type="cloudwatch",
    credentials={**aws, "sessionToken": config.require_secret("awsSessionToken")},
    sources=["/aws/lambda/checkout-api"],
)
# cloudwatch-session-token (advisory): long-lived access keys.
LogSource("static-keys", type="cloudwatch", credentials=aws, sources=["/aws/ecs/api"], verify=True)
# name-pattern (advisory): spaces and capitals.
LogSource(
    "bad-name",
    name="Prod Datadog",
    type="datadog",
    credentials={
        "apiKey": config.require_secret("datadogApiKey"),
        "appKey": config.require_secret("datadogAppKey"),
    },
    sources=["service:checkout-api"],
    verify=True,
)
# no-catch-all-sources: every Splunk index.
LogSource(
    "everything",
    type="splunk",
    credentials={
        "host": "https://splunk.example.com:8089",
        "token": config.require_secret("splunkToken"),
    },
    sources=["*"],
    verify=True,
)
# max-sources: 21 indices, one over the default limit of 20.
LogSource(
    "too-many",
    type="elastic",
    credentials={
        "host": "https://elastic.example.com",
        "apiKey": config.require_secret("elasticApiKey"),
    },
    sources=[f"logs-team-{n}" for n in range(21)],
    verify=True,
)
# unique-type-and-name: two gcp_logging sources both named prod-gcp.
for resource_name in ("prod-gcp", "prod-gcp-copy"):
    LogSource(
        resource_name,
        name="prod-gcp",
        type="gcp_logging",
        credentials=service_account,
        sources=[f'resource.type="cloud_run_revision" AND logName:"{resource_name}"'],
        verify=True,
    )
