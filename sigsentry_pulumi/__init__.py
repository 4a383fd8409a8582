"""SigSentry log sources as code: API client and Pulumi dynamic provider."""
