from governance.models.audit import AuditEntry
from governance.models.events import CLOSED_STATUSES, DriftEvent, EventStatus
from governance.models.gate import MODE_ORDER, ServingMode, ServingState, strictness
from governance.models.incidents import (
    EscalationStep,
    Incident,
    IncidentSeverity,
    IncidentStatus,
    TimelineEntry,
    TimelineKind,
)
from governance.models.notifications import ChannelKind, Delivery, DeliveryStatus, NotificationChannel
from governance.models.policies import (
    ActionRequest,
    Policy,
    PolicyVersion,
    RequestKind,
    RequestStatus,
    RuleEvaluation,
    Severity,
)

__all__ = [
    "CLOSED_STATUSES",
    "MODE_ORDER",
    "ActionRequest",
    "AuditEntry",
    "ChannelKind",
    "Delivery",
    "DeliveryStatus",
    "DriftEvent",
    "EscalationStep",
    "EventStatus",
    "Incident",
    "IncidentSeverity",
    "IncidentStatus",
    "NotificationChannel",
    "Policy",
    "PolicyVersion",
    "RequestKind",
    "RequestStatus",
    "RuleEvaluation",
    "ServingMode",
    "ServingState",
    "Severity",
    "TimelineEntry",
    "TimelineKind",
    "strictness",
]
