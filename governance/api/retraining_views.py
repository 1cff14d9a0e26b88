"""v1 API for retraining (requests, the model's pipeline) and for replacing the production version."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drift.models import ModelVersion
from drift.roles import ANALYST
from drift.selectors import model_for, version_for
from governance import selectors, selectors_retraining
from governance.api import retraining_serializers as s
from governance.api.common import PAGE, body, paginate, query
from governance.api.serializers import ServingDecisionSerializer
from governance.services.retraining import (
    retraining_pipeline_set,
    retraining_request_create,
    retraining_request_transition,
)
from governance.services.versions import version_promote, version_rollback
from monitoring_site.errors import ApplicationError, NotFound


class RetrainingPipelineView(APIView):
    required_roles = {"GET": ANALYST, "PUT": ANALYST}

    @extend_schema(responses=s.RetrainingPipelineSerializer)
    def get(self, request: Request, slug: str) -> Response:
        pipeline = selectors_retraining.retraining_pipeline_of(model_for(request.user, slug))
        if pipeline is None:
            raise NotFound(f"Model '{slug}' has no retraining pipeline yet; PUT one here.")
        return Response(s.RetrainingPipelineSerializer(pipeline).data)

    @extend_schema(request=s.RetrainingPipelineSetSerializer, responses=s.RetrainingPipelineSerializer)
    def put(self, request: Request, slug: str) -> Response:
        data = s.RetrainingPipelineSetSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        pipeline = retraining_pipeline_set(
            model=model_for(request.user, slug), by=request.user, **data.validated_data
        )
        out = s.RetrainingPipelineSerializer(pipeline).data
        if not data.validated_data.get("secret"):
            out["secret"] = pipeline.secret  # shown here only: the pipeline verifies signatures with it
        return Response(out)


class ModelRetrainingRequestsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str), *PAGE],
        responses=s.RetrainingRequestSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        model_for(request.user, slug)
        found = selectors_retraining.retraining_requests_list(
            request.user, model=slug, status=request.query_params.get("status") or None
        )
        return paginate(request, self, found, s.RetrainingRequestSerializer)

    @extend_schema(
        request=s.RetrainingRequestCreateSerializer, responses={201: s.RetrainingRequestSerializer}
    )
    def post(self, request: Request, slug: str) -> Response:
        data = s.RetrainingRequestCreateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        model = model_for(request.user, slug)
        event_id = data.validated_data.get("event")
        event = (
            selectors.events_list(request.user).filter(model=model, pk=event_id).first() if event_id else None
        )
        if event_id and event is None:
            raise ApplicationError(
                f"No drift event {event_id} of '{slug}'.",
                errors=[{"field": "event", "message": "unknown event"}],
            )
        made = retraining_request_create(
            model=model, reason=data.validated_data["reason"], by=request.user, event=event
        )
        fresh = selectors_retraining.retraining_request_for(request.user, made.pk)  # type: ignore[union-attr]
        return Response(s.RetrainingRequestSerializer(fresh).data, status=status.HTTP_201_CREATED)


class RetrainingRequestListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("model", str), OpenApiParameter("status", str), *PAGE],
        responses=s.RetrainingRequestSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        found = selectors_retraining.retraining_requests_list(
            request.user, **query(request, "model", "status")
        )
        return paginate(request, self, found, s.RetrainingRequestSerializer)


class RetrainingRequestDetailView(APIView):
    integration_methods = {"GET"}  # the pipeline may read the request it works on

    @extend_schema(responses=s.RetrainingRequestSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            s.RetrainingRequestSerializer(selectors_retraining.retraining_request_for(request.user, pk)).data
        )


class RetrainingTransitionView(APIView):
    # People with the analyst role decide; the pipeline reports with the model's integration key
    # (the service allows it running, completed and rejected on an accepted request only).
    integration_methods = {"POST"}
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.RetrainingTransitionSerializer, responses=s.RetrainingRequestSerializer)
    def post(self, request: Request, pk: int) -> Response:
        # Scope first: another model's key gets 404 whatever it sends, never a validation answer.
        found = selectors_retraining.retraining_request_for(request.user, pk)
        data = s.RetrainingTransitionSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        v: dict[str, Any] = dict(data.validated_data)
        if v.get("version"):
            v["version"] = version_for(found.model, v["version"], status=400)
        retraining_request_transition(request=found, by=request.user, **v)
        return Response(
            s.RetrainingRequestSerializer(selectors_retraining.retraining_request_for(request.user, pk)).data
        )


def _version_change(request: Request, slug: str, version: str, change: Any) -> Response:
    data = s.VersionChangeSerializer(data=body(request))
    data.is_valid(raise_exception=True)
    model = model_for(request.user, slug)
    target = version_for(model, version)
    before = ModelVersion.objects.filter(model=model, stage="production").first()
    now_serving = change(version=target, by=request.user, **data.validated_data)
    decision = ServingDecisionSerializer(selectors.serving_decision(request.user, slug)).data
    previous = before.version if before and before.pk != now_serving.pk else None
    return Response(
        {"model": slug, "production": now_serving.version, "previous": previous, "serving": decision}
    )


class VersionPromoteView(APIView):
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.VersionChangeSerializer, responses=s.VersionChangeResultSerializer)
    def post(self, request: Request, slug: str, version: str) -> Response:
        return _version_change(request, slug, version, version_promote)


class VersionRollbackView(APIView):
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.VersionChangeSerializer, responses=s.VersionChangeResultSerializer)
    def post(self, request: Request, slug: str, version: str) -> Response:
        return _version_change(request, slug, version, version_rollback)
