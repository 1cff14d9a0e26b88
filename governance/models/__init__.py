from governance.models.annotations import (
    Annotation,
    AnnotationCategory,
    AnnotationStatus,
    AnnotationTarget,
    ImprovementTask,
    TaskStatus,
)
from governance.models.audit import AuditEntry
from governance.models.drills import Drill, DrillStatus
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
from governance.models.postmortems import ActionItem, ActionItemStatus, Postmortem, PostmortemStatus
from governance.models.retraining import (
    OPEN_RETRAINING,
    PipelineCall,
    RetrainingPipeline,
    RetrainingRequest,
    RetrainingStatus,
)
from governance.models.runbooks import Runbook, RunbookVersion

__all__ = [
    "CLOSED_STATUSES",
    "MODE_ORDER",
    "OPEN_RETRAINING",
    "ActionItem",
    "ActionItemStatus",
    "ActionRequest",
    "Annotation",
    "AnnotationCategory",
    "AnnotationStatus",
    "AnnotationTarget",
    "AuditEntry",
    "ChannelKind",
    "Delivery",
    "DeliveryStatus",
    "DriftEvent",
    "Drill",
    "DrillStatus",
    "EscalationStep",
    "EventStatus",
    "ImprovementTask",
    "Incident",
    "IncidentSeverity",
    "IncidentStatus",
    "NotificationChannel",
    "PipelineCall",
    "Policy",
    "PolicyVersion",
    "Postmortem",
    "PostmortemStatus",
    "RequestKind",
    "RequestStatus",
    "RetrainingPipeline",
    "RetrainingRequest",
    "RetrainingStatus",
    "RuleEvaluation",
    "Runbook",
    "RunbookVersion",
    "ServingMode",
    "ServingState",
    "Severity",
    "TaskStatus",
    "TimelineEntry",
    "TimelineKind",
    "strictness",
]
