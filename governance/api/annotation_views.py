"""v1 API for annotations (frontline feedback) and the improvement tasks triage makes of them.

Frontline users and up create; analysts triage; everyone with a role reads. Notes are plain text:
answers carry them as sent, and pages escape them.
"""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drift.roles import ANALYST, FRONTLINE
from drift.selectors import model_for
from governance import selectors
from governance.api.common import PAGE, body, paginate, query
from governance.models import Annotation, AnnotationCategory, ImprovementTask, TaskStatus
from governance.selectors_annotations import (
    annotation_for,
    annotations_list,
    improvement_task_for,
    improvement_tasks_list,
)
from governance.selectors_retraining import retraining_requests_list
from governance.services.annotations import (
    annotation_accept,
    annotation_create,
    annotation_dismiss,
    improvement_task_update,
)
from monitoring_site.errors import ApplicationError


class AnnotationSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    created_by = serializers.CharField(source="created_by.username", default=None)
    triaged_by = serializers.CharField(source="triaged_by.username", default=None)
    segment = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = [
            "id",
            "model",
            "target",
            "record_id",
            "start",
            "end",
            "segment",
            "category",
            "note",
            "status",
            "created_by",
            "created_at",
            "triaged_by",
            "triaged_at",
            "dismiss_reason",
            "task",
        ]

    def get_segment(self, obj: Annotation) -> dict[str, str] | None:
        return {"feature": obj.segment_feature, "value": obj.segment_value} if obj.segment_feature else None


class SegmentSerializer(serializers.Serializer):
    feature = serializers.CharField(max_length=100)
    value = serializers.JSONField()


class AnnotationCreateSerializer(serializers.Serializer):
    model = serializers.SlugField()
    category = serializers.ChoiceField(choices=AnnotationCategory.choices)
    note = serializers.CharField(max_length=5_000)
    record_id = serializers.CharField(required=False, max_length=200, help_text="Flag one prediction.")
    start = serializers.DateTimeField(required=False, help_text="Flag a time range (with end).")
    end = serializers.DateTimeField(required=False)
    segment = SegmentSerializer(required=False, help_text="Flag a segment: {feature, value}.")


class TriageSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "dismiss"])
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=5_000, help_text="Dismissing."
    )
    title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    event = serializers.IntegerField(required=False, help_text="Accepting: the drift event it feeds.")
    retraining_request = serializers.IntegerField(
        required=False, help_text="Accepting: the request it feeds."
    )
    request_retraining = serializers.BooleanField(required=False, default=False)


class ImprovementTaskSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    created_by = serializers.CharField(source="created_by.username", default=None)
    annotations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ImprovementTask
        fields = [
            "id",
            "model",
            "title",
            "description",
            "status",
            "event",
            "retraining_request",
            "annotations",
            "created_by",
            "created_at",
            "done_at",
        ]


class TaskUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices)


ANNOTATION_FILTERS = ("model", "status", "category", "target")


class AnnotationListView(APIView):
    required_roles = {"POST": FRONTLINE}

    @extend_schema(
        parameters=[*(OpenApiParameter(name, str) for name in ANNOTATION_FILTERS), *PAGE],
        responses=AnnotationSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        found = annotations_list(request.user, **query(request, *ANNOTATION_FILTERS))
        return paginate(request, self, found, AnnotationSerializer)

    @extend_schema(request=AnnotationCreateSerializer, responses={201: AnnotationSerializer})
    def post(self, request: Request) -> Response:
        data = AnnotationCreateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        made = annotation_create(model=model_for(request.user, v.pop("model")), by=request.user, **v)
        fresh = annotation_for(request.user, made.pk)
        return Response(AnnotationSerializer(fresh).data, status=status.HTTP_201_CREATED)


class AnnotationDetailView(APIView):
    @extend_schema(responses=AnnotationSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(AnnotationSerializer(annotation_for(request.user, pk)).data)


def _linked(request: Request, annotation: Annotation, v: dict[str, Any]) -> dict[str, Any]:
    """The event and retraining request a triage names, looked up among the annotation's model's."""
    links: dict[str, Any] = {}
    if v.get("event") is not None:
        events = selectors.events_list(request.user).filter(model=annotation.model_id)
        links["event"] = events.filter(pk=v["event"]).first()
    if v.get("retraining_request") is not None:
        requests = retraining_requests_list(request.user).filter(model=annotation.model_id)
        links["retraining_request"] = requests.filter(pk=v["retraining_request"]).first()
    for field, found in links.items():
        if found is None:
            raise ApplicationError(
                f"No {field.replace('_', ' ')} {v[field]} of this model.",
                errors=[{"field": field, "message": "unknown, or of another model"}],
            )
    return links


class AnnotationTriageView(APIView):
    required_roles = {"POST": ANALYST}

    @extend_schema(request=TriageSerializer, responses=AnnotationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = TriageSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        v, annotation = data.validated_data, annotation_for(request.user, pk)
        if v["decision"] == "dismiss":
            annotation_dismiss(annotation=annotation, by=request.user, reason=v.get("reason", ""))
        else:
            annotation_accept(
                annotation=annotation,
                by=request.user,
                title=v.get("title", ""),
                request_retraining=v["request_retraining"],
                **_linked(request, annotation, v),
            )
        return Response(AnnotationSerializer(annotation_for(request.user, pk)).data)


class ImprovementTaskListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("model", str), OpenApiParameter("status", str), *PAGE],
        responses=ImprovementTaskSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        found = improvement_tasks_list(request.user, **query(request, "model", "status"))
        return paginate(request, self, found, ImprovementTaskSerializer)


class ImprovementTaskDetailView(APIView):
    @extend_schema(responses=ImprovementTaskSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ImprovementTaskSerializer(improvement_task_for(request.user, pk)).data)

    @extend_schema(request=TaskUpdateSerializer, responses=ImprovementTaskSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        data = TaskUpdateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        task = improvement_task_for(request.user, pk)
        improvement_task_update(task=task, by=request.user, **data.validated_data)
        return Response(ImprovementTaskSerializer(improvement_task_for(request.user, pk)).data)
