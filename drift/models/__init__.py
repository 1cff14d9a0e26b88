from drift.models.access import IntegrationKey
from drift.models.profiles import ProfileFragment
from drift.models.registry import (
    FeatureRole,
    FeatureSpec,
    FeatureType,
    ModelVersion,
    MonitoredModel,
    PiiHandling,
    Stage,
    StageChange,
    Task,
)
from drift.models.telemetry import (
    BatchKind,
    HealthSample,
    IngestionBatch,
    Outcome,
    PredictionLog,
    PredictionStatus,
    ReferenceDataset,
    ReferenceRow,
)

__all__ = [
    "BatchKind",
    "FeatureRole",
    "FeatureSpec",
    "FeatureType",
    "HealthSample",
    "IngestionBatch",
    "IntegrationKey",
    "ModelVersion",
    "MonitoredModel",
    "Outcome",
    "PiiHandling",
    "PredictionLog",
    "PredictionStatus",
    "ProfileFragment",
    "ReferenceDataset",
    "ReferenceRow",
    "Stage",
    "StageChange",
    "Task",
]
