"""v1 API for the registry and telemetry: validate, call one service or selector, answer."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drift.api import serializers as s
from drift.models import HealthSample, ModelVersion
from drift.roles import ANALYST
from drift.selectors import model_for, models_visible_to, predictions_of, version_for
from drift.services import ingestion, reference, registry
from monitoring_site.errors import ApplicationError
from monitoring_site.parsers import LimitedMultiPartParser, LimitedOrjsonParser

PARTIAL = OpenApiParameter(
    "partial",
    bool,
    description="Store the valid records and return the refused ones (default: all or nothing).",
)


def _partial(request: Request) -> bool:
    return request.query_params.get("partial", "").lower() in {"1", "true", "yes"}


def _body(request: Request) -> dict[str, Any]:
    """The request body, which every endpoint here expects to be an object (JSON, or a form)."""
    data = request.data
    if not isinstance(data, dict):
        got = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
            type(data), "null"
        )
        raise ApplicationError(
            "The body must be a JSON object.",
            errors=[{"field": "body", "message": f"expected an object, got {got}"}],
        )
    return data


PAGE = [
    OpenApiParameter("limit", int, description="Items per page (default 50, at most 1000)."),
    OpenApiParameter("offset", int, description="Items to skip."),
]


class Pages(LimitOffsetPagination):
    # Bounded, so `?limit=10**30` cannot ask the database for everything (or overflow its integers).
    max_limit = 1000


def _paginate(request: Request, view: APIView, queryset: Any, serializer: Any) -> Response:
    paginator = Pages()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class ModelListView(APIView):
    integration_methods = {"GET"}

    @extend_schema(operation_id="v1_models_list", parameters=PAGE, responses=s.page_of(s.ModelOutSerializer))
    def get(self, request: Request) -> Response:
        qs = models_visible_to(request.user).select_related("serving_state").prefetch_related("versions")
        return _paginate(request, self, qs, s.ModelOutSerializer)

    @extend_schema(request=s.ModelCreateSerializer, responses={201: s.ModelOutSerializer})
    def post(self, request: Request) -> Response:
        data = s.ModelCreateSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        model = registry.model_create(**data.validated_data)
        return Response(s.ModelOutSerializer(model).data, status=status.HTTP_201_CREATED)


class ModelDetailView(APIView):
    integration_methods = {"GET"}

    @extend_schema(responses=s.ModelOutSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(s.ModelOutSerializer(model_for(request.user, slug)).data)

    @extend_schema(request=s.ModelUpdateSerializer, responses=s.ModelOutSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        data = s.ModelUpdateSerializer(data=_body(request), partial=True)
        data.is_valid(raise_exception=True)
        model = registry.model_update(model=model_for(request.user, slug), **data.validated_data)
        return Response(s.ModelOutSerializer(model).data)


def _version_qs() -> Any:
    return ModelVersion.objects.select_related("created_by", "reference").prefetch_related(
        "features", "stage_history__changed_by"
    )


class VersionListView(APIView):
    integration_methods = {"GET"}

    @extend_schema(
        operation_id="v1_models_versions_list", parameters=PAGE, responses=s.page_of(s.VersionOutSerializer)
    )
    def get(self, request: Request, slug: str) -> Response:
        model = model_for(request.user, slug)
        return _paginate(request, self, _version_qs().filter(model=model), s.VersionOutSerializer)

    @extend_schema(request=s.VersionCreateSerializer, responses={201: s.VersionOutSerializer})
    def post(self, request: Request, slug: str) -> Response:
        model = model_for(request.user, slug)
        data = s.VersionCreateSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        mv = registry.version_create(
            model=model,
            version=v["version"],
            features=v["schema"]["features"],
            stage=v["stage"],
            training_data=v.get("training_data"),
            code_version=v["code_version"],
            feature_set_version=v["feature_set_version"],
            created_by=request.user,
        )
        return Response(
            s.VersionOutSerializer(_version_qs().get(pk=mv.pk)).data, status=status.HTTP_201_CREATED
        )


class VersionDetailView(APIView):
    integration_methods = {"GET"}

    @extend_schema(responses=s.VersionOutSerializer)
    def get(self, request: Request, slug: str, version: str) -> Response:
        mv = version_for(model_for(request.user, slug), version)
        return Response(s.VersionOutSerializer(_version_qs().get(pk=mv.pk)).data)

    @extend_schema(request=s.VersionStageSerializer, responses=s.VersionOutSerializer)
    def patch(self, request: Request, slug: str, version: str) -> Response:
        mv = version_for(model_for(request.user, slug), version)
        data = s.VersionStageSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        # Imported here: governance builds on drift, and drift's API only borrows this one service.
        from governance.services.versions import version_stage_change

        version_stage_change(version=mv, by=request.user, **data.validated_data)
        return Response(s.VersionOutSerializer(_version_qs().get(pk=mv.pk)).data)


class ReferenceView(APIView):
    parser_classes = [LimitedOrjsonParser, LimitedMultiPartParser]

    @extend_schema(
        request={
            "application/json": s.ReferenceUploadSerializer,
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            },
        },
        responses={201: s.VersionOutSerializer},
        description="Replace the version's reference: JSON `{records: [...]}`, or a CSV file in `file`.",
    )
    def post(self, request: Request, slug: str, version: str) -> Response:
        mv = version_for(model_for(request.user, slug), version)
        upload = request.FILES.get("file")
        if upload is None and request.content_type.startswith("multipart/"):
            raise ApplicationError(
                "Send the CSV file in the 'file' field.", errors=[{"field": "file", "message": "required"}]
            )
        if upload is not None:
            dataset = reference.reference_upload_csv(
                version=mv, content=upload.read(), uploaded_by=request.user
            )
        else:
            records = _body(request).get("records")
            dataset = reference.reference_upload(
                version=mv, rows=records, source="json", uploaded_by=request.user
            )
        body = s.VersionOutSerializer(_version_qs().get(pk=mv.pk)).data
        body["flagged_rows"] = dataset.flagged_rows
        return Response(body, status=status.HTTP_201_CREATED)


class PredictionView(APIView):
    integration_methods = {"GET", "POST"}
    required_roles = {"POST": ANALYST}

    @extend_schema(
        operation_id="v1_models_predictions_list",
        parameters=[
            OpenApiParameter("version", str),
            OpenApiParameter("start", str, description="ISO 8601, inclusive"),
            OpenApiParameter("end", str, description="ISO 8601, exclusive"),
            *PAGE,
        ],
        responses=s.page_of(s.PredictionOutSerializer),
    )
    def get(self, request: Request, slug: str) -> Response:
        params = request.query_params
        qs = predictions_of(
            model_for(request.user, slug),
            version=params.get("version"),
            start=params.get("start"),
            end=params.get("end"),
        )
        return _paginate(request, self, qs, s.PredictionOutSerializer)

    @extend_schema(
        request=s.PredictionBatchSerializer, parameters=[PARTIAL], responses=s.IngestResultSerializer
    )
    def post(self, request: Request, slug: str) -> Response:
        model = model_for(request.user, slug)
        body = _body(request)
        result = ingestion.predictions_ingest(
            model=model,
            version=body.get("version"),
            records=body.get("records"),
            partial=_partial(request),
            submitted_by=str(request.user),
        )
        return Response(result.as_dict(), status=status.HTTP_200_OK)


class OutcomeView(APIView):
    integration_methods = {"POST"}
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.OutcomeBatchSerializer, parameters=[PARTIAL], responses=s.IngestResultSerializer)
    def post(self, request: Request, slug: str) -> Response:
        model = model_for(request.user, slug)
        result = ingestion.outcomes_ingest(
            model=model,
            records=_body(request).get("records"),
            partial=_partial(request),
            submitted_by=str(request.user),
        )
        return Response(result.as_dict())


class HealthView(APIView):
    integration_methods = {"GET", "POST"}

    @extend_schema(
        operation_id="v1_models_health_list", parameters=PAGE, responses=s.page_of(s.HealthSerializer)
    )
    def get(self, request: Request, slug: str) -> Response:
        model = model_for(request.user, slug)
        return _paginate(request, self, HealthSample.objects.filter(model=model), s.HealthSerializer)

    @extend_schema(request=s.HealthInSerializer, responses={201: s.HealthSerializer})
    def post(self, request: Request, slug: str) -> Response:
        sample = ingestion.health_record(model=model_for(request.user, slug), data=_body(request))
        return Response(s.HealthSerializer(sample).data, status=status.HTTP_201_CREATED)
