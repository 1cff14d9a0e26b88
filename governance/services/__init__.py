"""Governance writes. Each public service changes state and writes its AuditEntry in one transaction."""
