"""Value types shared by events of several streams (enums follow the product brief)."""

from __future__ import annotations

import enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Importance(enum.StrEnum):
    LOW = "LOW"
    MODERATE = "MODERATE"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class DeploymentStatus(enum.StrEnum):
    LAUNCHING = "launching"
    ACTIVE = "active"
    INACTIVE = "inactive"
    ERRORED = "errored"
    DELETED = "deleted"
    ERASED = "erased"


class HealthStatus(enum.StrEnum):
    PASSING = "passing"
    WARNING = "warning"
    FAILING = "failing"
    UNKNOWN = "unknown"
    UNAVAILABLE = "unavailable"


class Role(enum.StrEnum):
    OWNER = "OWNER"
    USER = "USER"
    CONSUMER = "CONSUMER"


class PrincipalType(enum.StrEnum):
    USER = "user"
    GROUP = "group"
    ORGANIZATION = "organization"


class Platform(enum.StrEnum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    ON_PREMISE = "onPremise"
    DATAROBOT = "datarobot"
    DATAROBOT_SERVERLESS = "datarobotServerless"
    OPENSHIFT = "openShift"
    KUBERNETES = "kubernetes"
    SNOWFLAKE = "snowflake"
    SAP_AI_CORE = "sapAiCore"
    OTHER = "other"


class TargetType(enum.StrEnum):
    BINARY = "Binary"
    REGRESSION = "Regression"
    MULTICLASS = "Multiclass"
    MULTILABEL = "Multilabel"
    TEXT_GENERATION = "TextGeneration"
    ANOMALY = "Anomaly"
    UNSTRUCTURED = "Unstructured"


class ReplacementReason(enum.StrEnum):
    ACCURACY = "ACCURACY"
    DATA_DRIFT = "DATA_DRIFT"
    ERRORS = "ERRORS"
    SCHEDULED_REFRESH = "SCHEDULED_REFRESH"
    SCORING_SPEED = "SCORING_SPEED"
    DEPRECATION = "DEPRECATION"
    OTHER = "OTHER"


class ValidationStatus(enum.StrEnum):
    PASSING = "passing"
    WARNING = "warning"
    FAILING = "failing"


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Feature(Value):
    name: str
    type: str = Field(description="Feature data type, e.g. Numeric, Categorical, Text, Date")


class ModelPackageRef(Value):
    """What a deployment needs to know about the model package it serves."""

    id: str
    name: str
    registered_model_id: str | None = None
    target_name: str
    target_type: TargetType
    target_classes: tuple[str, ...] = ()
    build_environment: str = Field(default="Python", description="DataRobot, Python, R, Java or Other")


class PredictionEnvironment(Value):
    id: str
    name: str
    platform: Platform


class Tag(Value):
    name: str = Field(min_length=1)
    value: str = ""


class HealthWindow(Value):
    """The period a health report covers."""

    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class ValidationCheck(Value):
    status: ValidationStatus
    message: str = ""
