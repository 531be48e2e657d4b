"""Turning Call records into OpenTelemetry spans (and, later, metrics). Never imports a provider."""
