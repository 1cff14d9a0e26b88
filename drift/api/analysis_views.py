"""v1 API for analyses: request a window, read runs and results, set the model's analysis schedule."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drift.models import AnalysisRun, AnalysisWindow
from drift.roles import ANALYST
from drift.selectors import model_for, version_for
from drift.selectors_analysis import analyses_for_model, analysis_for, analysis_results
from drift.services.analyses import analysis_request, analysis_schedule_update


class AnalysisRequestSerializer(serializers.Serializer):
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    version = serializers.CharField(
        required=False, max_length=200, help_text="Default: the production version."
    )


class AnalysisRunSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField(source="version.version")
    window = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "model",
            "version",
            "kind",
            "trigger",
            "status",
            "reason",
            "window",
            "narrative",
            "rows",
            "labelled_rows",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_window(self, run: AnalysisRun) -> dict[str, Any]:
        return {"start": run.window_start, "end": run.window_end}


class AnalysisDetailSerializer(AnalysisRunSerializer):
    results = serializers.SerializerMethodField()

    class Meta(AnalysisRunSerializer.Meta):
        fields = [*AnalysisRunSerializer.Meta.fields, "results"]

    def get_results(self, run: AnalysisRun) -> dict[str, Any]:
        return analysis_results(run)


class AnalysisScheduleSerializer(serializers.Serializer):
    analysis_window = serializers.ChoiceField(choices=AnalysisWindow.choices, required=False)
    analysis_enabled = serializers.BooleanField(required=False)
    fairness_four_fifths = serializers.BooleanField(required=False)


class Pages(LimitOffsetPagination):
    max_limit = 1000


class ModelAnalysesView(APIView):
    integration_methods: set[str] = set()  # machines send telemetry; people read and request analyses
    required_roles = {"POST": ANALYST}

    @extend_schema(
        parameters=[
            OpenApiParameter("version", str),
            OpenApiParameter("status", str),
            OpenApiParameter("kind", str),
        ],
        responses=AnalysisRunSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        model = model_for(request.user, slug)
        params = request.query_params
        version = version_for(model, params["version"], status=400) if params.get("version") else None
        qs = analyses_for_model(model, version=version, status=params.get("status"), kind=params.get("kind"))
        paginator = Pages()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AnalysisRunSerializer(page, many=True).data)

    @extend_schema(request=AnalysisRequestSerializer, responses={202: AnalysisRunSerializer})
    def post(self, request: Request, slug: str) -> Response:
        model = model_for(request.user, slug)
        data = AnalysisRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        version = version_for(model, v["version"], status=400) if v.get("version") else None
        run = analysis_request(
            model=model,
            window_start=v["window_start"],
            window_end=v["window_end"],
            version=version,
            requested_by=request.user,
        )
        return Response(AnalysisRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AnalysisDetailView(APIView):
    integration_methods: set[str] = set()

    @extend_schema(responses=AnalysisDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(AnalysisDetailSerializer(analysis_for(request.user, pk)).data)


class ScheduleView(APIView):
    integration_methods: set[str] = set()

    @extend_schema(responses=AnalysisScheduleSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(AnalysisScheduleSerializer(model_for(request.user, slug)).data)

    @extend_schema(request=AnalysisScheduleSerializer, responses=AnalysisScheduleSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        model = model_for(request.user, slug)
        data = AnalysisScheduleSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        model = analysis_schedule_update(model=model, **data.validated_data)
        return Response(AnalysisScheduleSerializer(model).data)
